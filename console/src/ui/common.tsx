import type { ComponentChildren } from 'preact';
import { adviceFor, GraphQLFailure } from '../api/graphql.ts';

/** An error with what to do about it. */
export function ErrorNote({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  return (
    <div class="note error" role="alert">
      <p>
        <strong>
          {error instanceof GraphQLFailure ? error.code.replaceAll('_', ' ').toLowerCase() : 'error'}:
        </strong>{' '}
        {message}
      </p>
      <p>{adviceFor(error)}</p>
      {retry && (
        <button type="button" onClick={retry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** What an empty list means and what to do next. */
export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="note empty">
      <p>
        <strong>{title}</strong>
      </p>
      {children}
    </div>
  );
}

/** A status or risk badge; the text carries the meaning, the colour only repeats it. */
export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value.toLowerCase()}`}>{value.replaceAll('_', ' ')}</span>;
}

/** A date-time as local text in a <time> element. */
export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span>–</span>;
  return <time dateTime={at}>{new Date(at).toLocaleString()}</time>;
}

/** JSON as readable, scrollable text. */
export function Json({ value, label }: { value: unknown; label: string }) {
  return (
    // A scrollable region must be reachable by keyboard (WCAG 2.1.1; axe scrollable-region-focusable).
    // biome-ignore lint/a11y/noNoninteractiveTabindex: keyboard users scroll long arguments
    <section class="json" aria-label={label} tabIndex={0}>
      <pre>{JSON.stringify(value, null, 2)}</pre>
    </section>
  );
}

/** Duration between two times as "1.2 s". */
export function duration(from: string | null | undefined, to: string | null | undefined): string {
  if (!from || !to) return '–';
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
