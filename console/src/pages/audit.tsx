// Audit: the hash-chained log with filters, chain verification with its result, and export (JSON Lines).
import { useState } from 'preact/hooks';
import { Badge, Empty, ErrorNote, When } from '../ui/common.tsx';
import { useConsole } from '../ui/context.ts';
import { type Connection, useFilteredPages } from '../ui/filtered-pages.ts';

interface AuditRow {
  id: string;
  sequence: number;
  actor: string;
  actorKind: string;
  onBehalfOf: string | null;
  action: string;
  targetType: string;
  targetId: string | null;
  outcome: string;
  inputSummary: string | null;
  at: string;
}
interface Verification {
  ok: boolean;
  checked: number;
  firstBrokenSequence: number | null;
  problem: string | null;
  problems: { kind: string; sequence: number | null; message: string }[];
  checkpoints: number;
  anchoredThrough: number | null;
  lastCheckpointAt: string | null;
}

const EVENTS = `query ($filter: AuditEventFilter, $after: String) {
  auditEvents(filter: $filter, first: 50, after: $after) {
    edges { node { id sequence actor actorKind onBehalfOf action targetType targetId outcome inputSummary at } }
    pageInfo { hasNextPage endCursor }
  }
}`;
const VERIFY = `query ($from: DateTime, $to: DateTime) { verifyAuditChain(from: $from, to: $to) {
  ok checked firstBrokenSequence problem problems { kind sequence message } checkpoints anchoredThrough lastCheckpointAt
} }`;
const EXPORT =
  'query ($from: DateTime!, $to: DateTime!) { exportAuditEvents(from: $from, to: $to) { jsonLines count } }';

type Filter = {
  actor: string;
  action: string;
  targetType: string;
  outcome: string;
  from: string;
  to: string;
};
const NO_FILTER: Filter = { actor: '', action: '', targetType: '', outcome: '', from: '', to: '' };

/** A `datetime-local` value as RFC 3339 in UTC, or undefined. */
const instant = (local: string) => (local ? new Date(local).toISOString() : undefined);

function filterVariables(f: Filter) {
  const filter = {
    actor: f.actor || undefined,
    action: f.action || undefined,
    targetType: f.targetType || undefined,
    outcome: f.outcome || undefined,
    from: instant(f.from),
    to: instant(f.to),
  };
  return { filter };
}

export function AuditPage() {
  const { graph } = useConsole();
  const { applied, field, choice, apply, rows, next, loadMore, error, moreError, loading, reload } =
    useFilteredPages(
      EVENTS,
      NO_FILTER,
      filterVariables,
      (d: { auditEvents: Connection<AuditRow> }) => d.auditEvents,
    );
  const [verification, setVerification] = useState<Verification>();
  const [actionError, setActionError] = useState<unknown>();
  const verify = () =>
    graph
      .request<{ verifyAuditChain: Verification }>(VERIFY, {
        from: instant(applied.from),
        to: instant(applied.to),
      })
      .then((d) => setVerification(d.verifyAuditChain), setActionError);
  const exportLog = () => {
    const to = instant(applied.to) ?? new Date().toISOString();
    const from = instant(applied.from) ?? new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    graph
      .request<{ exportAuditEvents: { jsonLines: string; count: number } }>(EXPORT, { from, to })
      .then((d) => {
        const url = URL.createObjectURL(
          new Blob([d.exportAuditEvents.jsonLines], { type: 'application/x-ndjson' }),
        );
        const link = document.createElement('a');
        link.href = url;
        link.download = `audit-${from.slice(0, 10)}-${to.slice(0, 10)}.jsonl`;
        link.click();
        URL.revokeObjectURL(url);
      }, setActionError);
  };
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit log</h1>
      <form class="filters" onSubmit={apply} aria-label="filters">
        <label>
          Actor
          <input {...field('actor')} />
        </label>
        <label>
          Action
          <input {...field('action')} placeholder="agent.createTask" />
        </label>
        <label>
          Target type
          <input {...field('targetType')} />
        </label>
        <label>
          Outcome
          <select {...choice('outcome')}>
            <option value="">any</option>
            <option value="SUCCESS">success</option>
            <option value="DENIED">denied</option>
            <option value="FAILED">failed</option>
          </select>
        </label>
        <label>
          From
          <input type="datetime-local" {...field('from')} />
        </label>
        <label>
          To
          <input type="datetime-local" {...field('to')} />
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      <div class="actions">
        <button type="button" onClick={verify}>
          Verify the chain
        </button>
        <button type="button" onClick={exportLog}>
          Export JSON Lines
        </button>
      </div>
      {verification && (
        <div class={`note ${verification.ok ? '' : 'error'}`} role="status" data-testid="verification">
          <p>
            <strong>{verification.ok ? 'Chain intact' : 'Chain broken'}</strong>: {verification.checked} rows
            checked, {verification.checkpoints} signed checkpoint{verification.checkpoints === 1 ? '' : 's'}
            {verification.anchoredThrough !== null
              ? `, anchored through #${verification.anchoredThrough}`
              : ''}
            {verification.lastCheckpointAt ? (
              <>
                , last checkpoint <When at={verification.lastCheckpointAt} />
              </>
            ) : null}
            .
          </p>
          {verification.problems.map((p) => (
            <p>
              {p.kind}
              {p.sequence !== null ? ` at #${p.sequence}` : ''}: {p.message}
            </p>
          ))}
        </div>
      )}
      {actionError !== undefined && <ErrorNote error={actionError} />}
      {moreError !== undefined && <ErrorNote error={moreError} />}
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && rows.length === 0 && <Empty title="No audit records match these filters." />}
      {rows.length > 0 && (
        <table>
          <caption>Newest first.</caption>
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">When</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Outcome</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.id}>
                <td>{r.sequence}</td>
                <td>
                  <When at={r.at} />
                </td>
                <td>
                  {r.actor}
                  {r.onBehalfOf ? <span class="hint"> for {r.onBehalfOf}</span> : null}
                </td>
                <td>
                  <code>{r.action}</code>
                </td>
                <td>
                  {r.targetType}
                  {r.targetId ? <span class="hint"> {r.targetId}</span> : null}
                </td>
                <td>
                  <Badge value={r.outcome} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next?.hasNextPage && (
        <button type="button" onClick={loadMore}>
          Load more
        </button>
      )}
    </section>
  );
}
