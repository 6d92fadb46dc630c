// A cited passage shown in its document: the passages around it in document order (`Document.chunks`),
// the cited one marked with its quoted words, focused and scrolled into view; earlier and later
// passages a button away.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ErrorNote } from '../ui/common.tsx';
import { useQuery } from '../ui/context.ts';
import type { ChunkRef } from './search-ask.tsx';

/** Passages shown before and after the cited one. */
const CONTEXT = 2;

interface Passage {
  id: string;
  ordinal: number;
  text: string;
  headingPath: string;
  page: number | null;
}
interface Window {
  document: { title: string; chunkCount: number | null; chunks: Passage[] } | null;
}

const WINDOW = `query ($id: ID!, $from: Int!, $first: Int!) { document(id: $id) {
  title chunkCount chunks(fromOrdinal: $from, first: $first) { id ordinal text headingPath page }
} }`;

/** The cited passage in its document. */
export function InDocument({ chunk, quote }: { chunk: ChunkRef; quote?: string }) {
  const [from, setFrom] = useState(Math.max(0, chunk.ordinal - CONTEXT));
  const [to, setTo] = useState(chunk.ordinal + CONTEXT);
  const { data, error, reload } = useQuery<Window>(WINDOW, {
    id: chunk.document.id,
    from,
    first: to - from + 1,
  });
  const cited = useRef<HTMLLIElement>(null);
  const loaded = data !== undefined;
  useEffect(() => {
    if (!loaded || !cited.current) return;
    cited.current.focus();
    cited.current.scrollIntoView({ block: 'nearest' });
  }, [loaded]);
  const doc = data?.document;
  const passages = doc?.chunks ?? [];
  const last = passages.at(-1)?.ordinal ?? to;
  const total = doc?.chunkCount ?? null;
  return (
    <section
      class="in-document"
      aria-label={`${chunk.document.title}, passage ${chunk.ordinal + 1} in its document`}
      data-testid="in-document"
    >
      <h3>
        {chunk.document.title}
        <span class="hint">
          {' '}
          · passage {chunk.ordinal + 1}
          {total !== null ? ` of ${total}` : ''}
        </span>
      </h3>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {loaded && !doc && <p>The document is gone (deleted or replaced since the answer was written).</p>}
      {from > 0 && (
        <button type="button" class="link" onClick={() => setFrom(Math.max(0, from - 5, to - 99))}>
          Earlier passages
        </button>
      )}
      {!loaded && error === undefined && <p role="status">Loading the document…</p>}
      <ol class="passages" start={from + 1}>
        {passages.map((p) =>
          p.ordinal === chunk.ordinal ? (
            <li
              key={p.id}
              class="cited"
              aria-current="true"
              tabIndex={-1}
              ref={cited}
              data-testid="cited-passage"
            >
              <Heading passage={p} />
              <Marked text={p.text} quote={quote} />
            </li>
          ) : (
            <li key={p.id}>
              <Heading passage={p} />
              <p>{p.text}</p>
            </li>
          ),
        )}
      </ol>
      {loaded && (total === null || last + 1 < total) && passages.length === to - from + 1 && (
        <button type="button" class="link" onClick={() => setTo(Math.min(to + 5, from + 99))}>
          Later passages
        </button>
      )}
    </section>
  );
}

function Heading({ passage }: { passage: Passage }) {
  const where = [passage.headingPath, passage.page !== null ? `page ${passage.page}` : '']
    .filter(Boolean)
    .join(', ');
  return where ? <p class="hint">{where}</p> : null;
}

/** `text` with the first occurrence of `quote` in a <mark>. */
function Marked({ text, quote }: { text: string; quote: string | undefined }) {
  const at = quote ? text.indexOf(quote) : -1;
  if (!quote || at < 0) return <p>{text}</p>;
  return (
    <p>
      {text.slice(0, at)}
      <mark>{quote}</mark>
      {text.slice(at + quote.length)}
    </p>
  );
}
