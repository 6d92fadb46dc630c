import { ValidationError } from '#kernel/errors.ts';
import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { verifyAnchoredChain } from '../anchor/anchored-verification.ts';
import type { ChainAnchor } from '../anchor/chain-anchor.ts';
import { AuditEvent } from '../domain/audit-event.entity.ts';
import type { AuditFilter } from '../domain/audit-event.repository.ts';
import { toJsonLine } from '../domain/audit-export.ts';
import {
  findTrace,
  listTraces,
  parseTraceId,
  type TraceFilter,
  traceKey,
} from '../observability/trace-store.ts';
import { evalRunQueryResolvers } from './EvalRun.ts';

/** Most rows one GraphQL export returns; the CLI (`npm run audit:export`) streams any number. */
export const MAX_EXPORT_ROWS = 10_000;

type FilterArg = Omit<AuditFilter, 'outcome'> & { outcome?: 'SUCCESS' | 'DENIED' | 'FAILED' | null };

/** Query fields of the audit subgraph; chains are verified against `anchor`'s checkpoints when given. */
export const queryResolvers = (anchor: ChainAnchor | null): QueryResolvers => ({
  async auditEvents(_: unknown, args: PageArgs & { filter?: FilterArg | null }, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const filter = args.filter ?? {};
    checkRange(filter.from, filter.to);
    const rows = await ctx.db.run((em) =>
      em.getRepository(AuditEvent).page(page, {
        ...filter,
        outcome: filter.outcome ? (filter.outcome.toLowerCase() as AuditFilter['outcome']) : null,
      }),
    );
    return toConnection(rows, page, (event) => ({ at: event.at, id: event.id }));
  },

  verifyAuditChain(_: unknown, args: { from?: Date | null; to?: Date | null }, ctx: RequestContext) {
    checkRange(args.from, args.to);
    return ctx.db.run(async (em) => {
      const result = await verifyAnchoredChain(
        em,
        ctx.db.tenantId,
        anchor,
        args.from ?? null,
        args.to ?? null,
      );
      const firstBroken = result.firstBrokenId
        ? await em.findOne(AuditEvent, { id: result.firstBrokenId })
        : null;
      const [first] = result.findings;
      return {
        ok: result.ok,
        checked: result.checked,
        firstBroken,
        firstBrokenSequence: first?.sequence ?? null,
        problem: first?.message ?? null,
        kind: first?.kind ?? null,
        problems: result.findings,
        checkpoints: result.checkpoints,
        anchoredThrough: result.anchoredThrough,
        lastCheckpointAt: result.lastCheckpointAt,
      };
    });
  },

  exportAuditEvents(_: unknown, args: { from: Date; to: Date }, ctx: RequestContext) {
    checkRange(args.from, args.to);
    return ctx.db.run(async (em) => {
      const rows = await em.getRepository(AuditEvent).range(args.from, args.to, MAX_EXPORT_ROWS + 1);
      if (rows.length > MAX_EXPORT_ROWS) {
        throw new ValidationError(
          `The range holds more than ${MAX_EXPORT_ROWS} audit events; narrow it or use npm run audit:export`,
          { limit: MAX_EXPORT_ROWS },
        );
      }
      const jsonLines = rows.map((row) => `${toJsonLine(row)}\n`).join('');
      return { jsonLines, count: rows.length, from: args.from, to: args.to };
    });
  },

  ...traceResolvers,
  ...evalRunQueryResolvers,
});

/** Traces and their span trees (the embedded flame graph, ADR 0024). */
const traceResolvers = {
  trace(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseTraceId(args.id);
    return ctx.db.run((em) => findTrace(em, id));
  },
  async traces(_: unknown, args: PageArgs & { filter?: TraceFilter | null }, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const filter = args.filter ?? {};
    checkRange(filter.from, filter.to);
    const rows = await ctx.db.run((em) => listTraces(em, filter, page));
    return toConnection(rows, page, traceKey);
  },
};

function checkRange(from: Date | null | undefined, to: Date | null | undefined): void {
  if (from && to && from.getTime() >= to.getTime()) {
    throw new ValidationError(`from (${from.toISOString()}) must be before to (${to.toISOString()})`, {
      argument: 'from',
    });
  }
}
