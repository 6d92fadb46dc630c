// Small accessible SVG charts, no chart library (ADR 0040): horizontal bars for categories (user, agent,
// model) and columns for days. Each chart is an image with a text name that states what it shows and its
// largest values; every bar carries a <title> (the value on hover) and its value as visible text; the same
// numbers are in a table next to it (`ChartTable`), which is what keyboard and screen-reader users read.
// Geometry is set with SVG attributes, never style attributes, so the console's CSP (style-src 'self') holds.
import type { ComponentChildren } from 'preact';

/** One bar: a stable key, the label shown, the value drawn and the same value as text. */
export interface Bar {
  key: string;
  label: string;
  value: number;
  text: string;
}

/** At most this many bars; the rest are summed into one "others" bar so the chart stays readable. */
export const MAX_BARS = 10;

/** The largest bars and one bar summing the rest (`format` writes its value). */
export function topBars(bars: Bar[], format: (value: number) => string): Bar[] {
  const sorted = [...bars].sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
  if (sorted.length <= MAX_BARS) return sorted;
  const rest = sorted.slice(MAX_BARS - 1);
  const sum = rest.reduce((total, b) => total + b.value, 0);
  return [
    ...sorted.slice(0, MAX_BARS - 1),
    { key: '(others)', label: `${rest.length} others`, value: sum, text: format(sum) },
  ];
}

const WIDTH = 720;
const LABEL_W = 220;
const VALUE_W = 120;
const ROW_H = 28;
const BAR_H = 18;

/** A label cut to fit its column (the whole label stays in the bar's title and the table). */
const clip = (label: string, max: number) => (label.length > max ? `${label.slice(0, max - 1)}…` : label);

/** The text name of a chart: what it shows and its largest values, for screen readers. */
function chartName(title: string, bars: Bar[]): string {
  if (bars.length === 0) return `${title}: no data`;
  const top = bars
    .slice(0, 3)
    .map((b) => `${b.label} ${b.text}`)
    .join('; ');
  return `${title}: ${bars.length} ${bars.length === 1 ? 'entry' : 'entries'}, largest ${top}`;
}

/** Horizontal bars, largest first. */
export function BarChart({ title, bars, id }: { title: string; bars: Bar[]; id: string }) {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const height = Math.max(1, bars.length) * ROW_H + 8;
  const span = WIDTH - LABEL_W - VALUE_W;
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${height}`}
      role="img"
      aria-label={chartName(title, bars)}
      data-chart={id}
    >
      {bars.map((b, i) => {
        const y = 4 + i * ROW_H;
        const w = max > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / max) * span) : 0;
        return (
          <g key={b.key} data-bar={b.key}>
            <title>{`${b.label}: ${b.text}`}</title>
            <text class="chart-label" x={LABEL_W - 8} y={y + BAR_H - 4} text-anchor="end">
              {clip(b.label, 26)}
            </text>
            <rect class="chart-bar" x={LABEL_W} y={y} width={w} height={BAR_H} rx={2} />
            <text class="chart-value" x={LABEL_W + w + 6} y={y + BAR_H - 4}>
              {b.text}
            </text>
          </g>
        );
      })}
      <line class="chart-axis" x1={LABEL_W} x2={LABEL_W} y1={0} y2={height} />
    </svg>
  );
}

const COL_H = 160;
const AXIS_H = 24;
const LEFT = 8;

/** Columns in order (days): every column titled; the first, the last and a few between are labelled. */
export function ColumnChart({ title, bars, id }: { title: string; bars: Bar[]; id: string }) {
  const max = Math.max(0, ...bars.map((b) => b.value));
  const n = Math.max(1, bars.length);
  const slot = (WIDTH - LEFT * 2) / n;
  const gap = Math.min(4, slot * 0.2);
  const every = Math.max(1, Math.ceil(n / 6));
  const largest = bars.reduce<Bar | undefined>(
    (top, b) => (top && top.value >= b.value ? top : b),
    undefined,
  );
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${WIDTH} ${COL_H + AXIS_H + 18}`}
      role="img"
      aria-label={
        bars.length === 0
          ? `${title}: no data`
          : `${title}: ${bars.length} days from ${bars[0]!.label} to ${bars.at(-1)!.label}, largest ${largest!.label} ${largest!.text}`
      }
      data-chart={id}
    >
      {largest && largest.value > 0 && (
        <text class="chart-value" x={LEFT} y={12}>
          {`max ${largest.text}`}
        </text>
      )}
      {bars.map((b, i) => {
        const h = max > 0 ? Math.max(b.value > 0 ? 2 : 0, (b.value / max) * (COL_H - 10)) : 0;
        const x = LEFT + i * slot + gap / 2;
        return (
          <g key={b.key} data-bar={b.key}>
            <title>{`${b.label}: ${b.text}`}</title>
            <rect class="chart-bar" x={x} y={18 + COL_H - h} width={slot - gap} height={h} rx={1} />
            {(i % every === 0 || i === n - 1) && (
              <text class="chart-label" x={x + (slot - gap) / 2} y={18 + COL_H + 16} text-anchor="middle">
                {b.label.slice(5)}
              </text>
            )}
          </g>
        );
      })}
      <line class="chart-axis" x1={LEFT} x2={WIDTH - LEFT} y1={18 + COL_H} y2={18 + COL_H} />
    </svg>
  );
}

/** A chart, its caption and its numbers as a table (shown on request; the same data, keyboard-readable). */
export function ChartFigure({
  id,
  caption,
  chart,
  table,
}: {
  id: string;
  caption: string;
  chart: ComponentChildren;
  table: ComponentChildren;
}) {
  return (
    <figure class="chart-figure" aria-labelledby={`${id}-caption`} data-testid={`usage-${id}`}>
      <figcaption id={`${id}-caption`}>{caption}</figcaption>
      {chart}
      <details class="chart-table">
        <summary>Table: {caption.toLowerCase()}</summary>
        {table}
      </details>
    </figure>
  );
}
