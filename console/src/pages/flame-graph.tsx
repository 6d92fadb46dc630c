// A trace's flame graph: one row per depth, each span a bar placed by its start and sized by its
// duration, coloured by service (the text names the service too). Every bar is a button: Tab walks the
// spans depth first, arrow keys move to the parent (↑), first child (↓) and the previous or next span
// (← →); hovering or focusing a bar shows its attributes, clicking or Enter keeps them shown.
// Positions are set through the CSSOM (element.style), which the console's strict CSP allows.
import { useState } from 'preact/hooks';

/** A span as `Trace.spans` lists it (depth first, parents before children). */
export interface FlameSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  service: string;
  kind: string;
  start: string;
  durationMs: number;
  status: string;
  statusMessage: string | null;
  attributes: string;
  depth: number;
}

/** Services with a colour of their own; any other gets the neutral one. */
const SERVICES = ['gateway', 'knowledge', 'agent', 'governance', 'audit', 'worker'];
const ROW_PX = 26;

const serviceClass = (service: string) => `svc-${SERVICES.includes(service) ? service : 'other'}`;
const fmt = (ms: number) => (ms < 1000 ? `${ms.toFixed(1)} ms` : `${(ms / 1000).toFixed(2)} s`);

function parseAttributes(json: string): [string, string][] {
  try {
    const value = JSON.parse(json) as Record<string, unknown>;
    return Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]);
  } catch {
    return [['attributes', json]];
  }
}

/** The flame graph of one trace, with the details of the shown span. */
export function FlameGraph({
  start,
  durationMs,
  spans,
}: {
  start: string;
  durationMs: number;
  spans: FlameSpan[];
}) {
  const [selected, setSelected] = useState<string>();
  const [hovered, setHovered] = useState<string>();
  const [focused, setFocused] = useState<string>();
  const [current, setCurrent] = useState<string | undefined>(spans[0]?.spanId);
  const t0 = new Date(start).getTime();
  const total = Math.max(durationMs, 0.001);
  const depth = spans.reduce((max, s) => Math.max(max, s.depth), 0) + 1;
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const shown = byId.get(hovered ?? focused ?? selected ?? '');
  // A bar leaving the pointer or focus clears only its own mark (another bar may have taken it meanwhile).
  const clear = (set: (update: (id: string | undefined) => string | undefined) => void, id: string) =>
    set((current) => (current === id ? undefined : current));
  const services = [...new Set(spans.map((s) => s.service))];
  const offset = (s: FlameSpan) => new Date(s.start).getTime() - t0;
  const focus = (span: FlameSpan | undefined) => {
    if (span) document.getElementById(`span-${span.spanId}`)?.focus();
  };
  const open = (span: FlameSpan) => {
    setSelected(span.spanId);
    focus(span);
  };
  const tabStop = byId.has(current ?? '') ? current : spans[0]?.spanId;
  // Where each bar lies, as fractions of the trace. Starts come in milliseconds and durations finer, so a
  // child ending with its parent can seem to end up to 1 ms later: each bar is kept inside its parent's
  // (parents come first in `spans`).
  const extent = new Map<string, { left: number; right: number }>();
  for (const s of spans) {
    const outer = extent.get(s.parentSpanId ?? '') ?? { left: 0, right: 1 };
    const left = Math.min(Math.max(offset(s) / total, outer.left), outer.right);
    extent.set(s.spanId, { left, right: Math.max(Math.min(left + s.durationMs / total, outer.right), left) });
  }
  const onKey = (e: KeyboardEvent, index: number) => {
    const span = spans[index]!;
    const moves: Record<string, () => FlameSpan | undefined> = {
      ArrowUp: () => byId.get(span.parentSpanId ?? ''),
      ArrowDown: () => spans.find((s) => s.parentSpanId === span.spanId),
      ArrowLeft: () => spans[index - 1],
      ArrowRight: () => spans[index + 1],
      Home: () => spans[0],
      End: () => spans.at(-1),
    };
    if (e.key === 'Escape') {
      setSelected(undefined);
      return;
    }
    const move = moves[e.key];
    if (!move) return;
    e.preventDefault();
    focus(move());
  };
  return (
    <div class="flame">
      <ul class="legend" aria-label="services">
        {services.map((s) => (
          <li key={s}>
            <span class={`swatch ${serviceClass(s)}`} aria-hidden="true" /> {s}
          </li>
        ))}
      </ul>
      <div class="flame-axis" aria-hidden="true">
        {[0, 0.25, 0.5, 0.75, 1].map((f) => (
          <span key={f} style={{ left: `${f * 100}%` }}>
            {fmt(f * total)}
          </span>
        ))}
      </div>
      <section
        class="flame-bars"
        aria-label={`flame graph: ${spans.length} spans over ${fmt(total)}; arrow keys move between spans`}
        style={{ height: `${depth * ROW_PX}px` }}
      >
        {spans.map((s, i) => {
          const { left, right } = extent.get(s.spanId)!;
          const width = right - left;
          return (
            <button
              type="button"
              key={s.spanId}
              id={`span-${s.spanId}`}
              class={`bar ${serviceClass(s.service)}${s.status === 'ERROR' ? ' failed' : ''}${tabStop === s.spanId ? ' current' : ''}`}
              tabIndex={tabStop === s.spanId ? 0 : -1}
              aria-pressed={selected === s.spanId}
              aria-label={`${s.name}, ${s.service}, ${fmt(s.durationMs)}, from +${fmt(offset(s))}${s.status === 'ERROR' ? ', failed' : ''}`}
              data-span={s.name}
              style={{ left: `${left * 100}%`, width: `${width * 100}%`, top: `${s.depth * ROW_PX}px` }}
              onClick={() => setSelected(selected === s.spanId ? undefined : s.spanId)}
              onMouseEnter={() => setHovered(s.spanId)}
              onMouseLeave={() => clear(setHovered, s.spanId)}
              onFocus={() => {
                setFocused(s.spanId);
                setCurrent(s.spanId);
              }}
              onBlur={() => clear(setFocused, s.spanId)}
              onKeyDown={(e) => onKey(e, i)}
            >
              {s.name}
            </button>
          );
        })}
      </section>
      <section class="span-details" aria-label="span details" data-testid="span-details">
        {shown ? (
          <Details
            span={shown}
            offsetMs={offset(shown)}
            parent={byId.get(shown.parentSpanId ?? '')}
            inner={spans.filter((c) => c.parentSpanId === shown.spanId)}
            onOpen={open}
          />
        ) : (
          <p class="hint">Point at or select a span to see its attributes.</p>
        )}
      </section>
    </div>
  );
}

function Details({
  span,
  offsetMs,
  parent,
  inner,
  onOpen,
}: {
  span: FlameSpan;
  offsetMs: number;
  parent: FlameSpan | undefined;
  inner: FlameSpan[];
  onOpen(span: FlameSpan): void;
}) {
  const go = (s: FlameSpan) => (
    <button type="button" class="span-link" onClick={() => onOpen(s)}>
      {s.name} <span class="hint">({fmt(s.durationMs)})</span>
    </button>
  );
  return (
    <>
      <h2>{span.name}</h2>
      <p>
        {span.service} · {span.kind.toLowerCase()} · {fmt(span.durationMs)} from +{fmt(offsetMs)} ·{' '}
        {span.status}
        {span.statusMessage ? `: ${span.statusMessage}` : ''}
      </p>
      {parent && <p>Inside {go(parent)}</p>}
      {inner.length > 0 && (
        <>
          <p>Ran inside it:</p>
          <ul class="span-children">
            {inner.map((c) => (
              <li key={c.spanId}>{go(c)}</li>
            ))}
          </ul>
        </>
      )}
      <table class="attributes">
        <caption>Attributes</caption>
        <tbody>
          {parseAttributes(span.attributes).map(([k, v]) => (
            <tr key={k}>
              <th scope="row">
                <code>{k}</code>
              </th>
              <td>{v}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
