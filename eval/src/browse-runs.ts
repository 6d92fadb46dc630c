/**
 * `npm run eval -- --runs` and `npm run eval -- --compare [<base> <other>]`: the stored runs of the
 * evaluation tenant, read from the evaluation's database with the audit subgraph's own reader and
 * comparison (the same figures `evalRuns` and `compareEvalRuns` answer over GraphQL).
 */
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { NotFoundError } from '#kernel/errors.ts';
import { compareRuns } from '../../subgraphs/audit/src/observability/eval-compare.ts';
import {
  evalResults,
  findEvalRun,
  listEvalRuns,
  parseEvalRunId,
} from '../../subgraphs/audit/src/observability/eval-run-store.ts';
import { formatComparison, formatRunList } from './compare-report.ts';
import { EVAL_TENANT, openEvalDatabase } from './platform.ts';

/** What to show. */
export type BrowseRequest =
  | { kind: 'list'; first: number }
  | { kind: 'compare'; ids: string[]; all: boolean };

/** Prints the list or the comparison to `say`; a bad or unknown id is an error naming it. */
export async function browseRuns(request: BrowseRequest, say: (text: string) => void): Promise<void> {
  if (request.kind === 'compare' && request.ids.length !== 0 && request.ids.length !== 2) {
    throw new Error('--compare takes two run ids (base, then other), or none for the two newest runs');
  }
  const ids =
    request.kind === 'compare'
      ? request.ids.map((id, i) => parseEvalRunId(id, i === 0 ? 'base' : 'other'))
      : [];
  const database = await openEvalDatabase();
  const orm = await createOrm({ url: database.url, entities: [], poolMax: 1 });
  try {
    await withTenant(orm, devTenantId(EVAL_TENANT), async (em) => {
      if (request.kind === 'list') {
        const runs = await listEvalRuns(em, { first: request.first, after: undefined });
        const shown = runs.slice(0, request.first);
        say(
          shown.length
            ? `${shown.length} newest stored run(s) of the ${EVAL_TENANT} tenant in ${database.database}:`
            : `no stored runs in ${database.database}`,
        );
        if (shown.length) say(formatRunList(shown));
        return;
      }
      if (ids.length === 0) {
        const newest = await listEvalRuns(em, { first: 2, after: undefined });
        if (newest.length < 2)
          throw new Error(`${database.database} holds ${newest.length} run(s); --compare needs two`);
        ids.push(newest[1]!.id, newest[0]!.id);
      }
      const [base, other] = [await findEvalRun(em, ids[0]!), await findEvalRun(em, ids[1]!)];
      if (!base) throw new NotFoundError(`base: no evaluation run ${ids[0]} in ${database.database}`);
      if (!other) throw new NotFoundError(`other: no evaluation run ${ids[1]} in ${database.database}`);
      const comparison = compareRuns(
        base,
        await evalResults(em, base.id),
        other,
        await evalResults(em, other.id),
      );
      say(formatComparison(comparison, { all: request.all }));
    });
  } finally {
    await orm.close();
    await database.close();
  }
}
