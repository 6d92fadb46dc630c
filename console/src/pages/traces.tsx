// Traces: the tenant's stored request traces (`traces`, newest first) with filters, and one trace's
// flame graph (`trace(id)`). Auditors and Admins read them (ADR 0024).
import { useEffect, useState } from 'preact/hooks';
import { Badge, Empty, ErrorNote, When } from '../ui/common.tsx';
import { useConsole, useQuery } from '../ui/context.ts';
import { type Connection, useFilteredPages } from '../ui/filtered-pages.ts';
import { FlameGraph, type FlameSpan } from './flame-graph.tsx';

interface TraceRow {
  id: string;
  operation: string;
  start: string;
  durationMs: number;
  status: string;
  spanCount: number;
  services: string[];
}
interface Page {
  traces: Connection<TraceRow>;
}

const TRACES = `query ($filter: TraceFilter, $after: String) { traces(filter: $filter, first: 25, after: $after) {
  edges { node { id operation start durationMs status spanCount services } }
  pageInfo { hasNextPage endCursor }
} }`;
const TRACE = `query ($id: ID!) { trace(id: $id) {
  id operation start durationMs status spanCount services
  spans { spanId parentSpanId name service kind start durationMs status statusMessage attributes depth }
} }`;

/** How long after its start a trace may still gain spans (processes flush each second; late tenants wait 30 s). */
const SETTLING_MS = 35_000;
/** How often a settling or not yet stored trace is loaded again. */
const REFRESH_MS = 1500;
/** How many times a trace that is not stored is looked for again before the page says so. */
const MISSING_RETRIES = 10;

type Filter = {
  operation: string;
  minDurationMs: string;
  status: string;
};
const NO_FILTER: Filter = { operation: '', minDurationMs: '', status: '' };

function filterVariables(f: Filter) {
  const min = f.minDurationMs.trim() === '' ? undefined : Number(f.minDurationMs);
  return {
    filter: {
      operation: f.operation.trim() || undefined,
      minDurationMs: min,
      status: f.status || undefined,
    },
  };
}

const ms = (value: number) => (value < 1000 ? `${value.toFixed(1)} ms` : `${(value / 1000).toFixed(2)} s`);

/** The list of traces with filters. */
export function TracesPage() {
  const { navigate } = useConsole();
  const { field, choice, apply, rows, next, loadMore, error, moreError, loading, reload } = useFilteredPages(
    TRACES,
    NO_FILTER,
    filterVariables,
    (d: Page) => d.traces,
  );
  return (
    <section aria-labelledby="traces-title">
      <h1 id="traces-title">Traces</h1>
      <p class="hint">
        Where each request spent its time, across the gateway, the subgraphs and the workers. Token use and
        cost per user, agent, model and day are on the{' '}
        <a
          href="/console/usage"
          onClick={(e) => {
            e.preventDefault();
            navigate('/console/usage');
          }}
        >
          Usage
        </a>{' '}
        page; each LLM call’s record is under{' '}
        <a
          href="/console/generations"
          onClick={(e) => {
            e.preventDefault();
            navigate('/console/generations');
          }}
        >
          Generations
        </a>
        .
      </p>
      <form class="filters" onSubmit={apply} aria-label="filters">
        <label>
          Operation
          <input {...field('operation')} placeholder="Ask" />
        </label>
        <label>
          At least (ms)
          <input type="number" min="0" step="any" inputMode="decimal" {...field('minDurationMs')} />
        </label>
        <label>
          Status
          <select {...choice('status')}>
            <option value="">any</option>
            <option value="OK">ok</option>
            <option value="ERROR">error</option>
            <option value="UNSET">unset</option>
          </select>
        </label>
        <button type="submit" class="primary">
          Apply filters
        </button>
      </form>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {moreError !== undefined && <ErrorNote error={moreError} />}
      {!loading && !error && rows.length === 0 && (
        <Empty title="No traces match these filters.">
          <p>
            Traces are kept for TRACE_RETENTION (7 days by default); search, ask or run a task to make one.
          </p>
        </Empty>
      )}
      {rows.length > 0 && (
        <table>
          <caption>Newest first.</caption>
          <thead>
            <tr>
              <th scope="col">Operation</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Spans</th>
              <th scope="col">Services</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((t) => (
              <tr key={t.id} data-trace={t.id}>
                <td>
                  <a
                    href={`/console/traces/${t.id}`}
                    onClick={(e) => {
                      e.preventDefault();
                      navigate(`/console/traces/${t.id}`);
                    }}
                  >
                    {t.operation}
                  </a>
                </td>
                <td>
                  <When at={t.start} />
                </td>
                <td>{ms(t.durationMs)}</td>
                <td>{t.spanCount}</td>
                <td>{t.services.join(', ')}</td>
                <td>
                  <Badge value={t.status} />
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

interface TraceView extends TraceRow {
  spans: FlameSpan[];
}

/** One trace: its summary and flame graph; loaded again while its spans may still be arriving. */
export function TracePage({ id }: { id: string }) {
  const { navigate } = useConsole();
  const { data, error, loading, reload } = useQuery<{ trace: TraceView | null }>(TRACE, { id });
  const [misses, setMisses] = useState(0);
  const trace = data?.trace;
  const settling = trace ? Date.now() - new Date(trace.start).getTime() < SETTLING_MS : false;
  const waiting = !loading && !error && data !== undefined && !trace && misses < MISSING_RETRIES;
  useEffect(() => {
    if (!settling && !waiting) return;
    const timer = setTimeout(() => {
      if (waiting) setMisses((n) => n + 1);
      reload();
    }, REFRESH_MS);
    return () => clearTimeout(timer);
  }, [settling, waiting, data, reload]);
  const back = (
    <p>
      <a
        href="/console/traces"
        onClick={(e) => {
          e.preventDefault();
          navigate('/console/traces');
        }}
      >
        All traces
      </a>
    </p>
  );
  return (
    <section aria-labelledby="trace-title">
      <h1 id="trace-title">Trace {trace ? `· ${trace.operation}` : id}</h1>
      {back}
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {(loading || waiting) && !trace && <p role="status">Looking for the trace’s spans…</p>}
      {!loading && !waiting && !error && !trace && (
        <Empty title={`No trace ${id} is stored.`}>
          <p>
            It may be older than TRACE_RETENTION, belong to another tenant, or its request was refused before
            its tenant was known.
          </p>
        </Empty>
      )}
      {trace && (
        <>
          <p data-testid="trace-summary">
            <Badge value={trace.status} /> {ms(trace.durationMs)} · {trace.spanCount} spans ·{' '}
            {trace.services.join(', ')} · started <When at={trace.start} />
            {settling && <span class="hint"> · recent: spans may still arrive, refreshing</span>}
          </p>
          <p class="hint">
            <code>{trace.id}</code>
          </p>
          <FlameGraph start={trace.start} durationMs={trace.durationMs} spans={trace.spans} />
        </>
      )}
    </section>
  );
}
