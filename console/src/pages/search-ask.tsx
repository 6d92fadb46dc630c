// Search and ask over the tenant's READY documents: hits with their matched words highlighted, and an
// answer with its citations (each opens the cited passage in its document), the stage timings and a
// link to its trace.
import { useState } from 'preact/hooks';
import { Empty, ErrorNote } from '../ui/common.tsx';
import { useConsole, useHasRole } from '../ui/context.ts';
import { InDocument } from './in-document.tsx';

/** A chunk as search and ask select it. */
export interface ChunkRef {
  id: string;
  ordinal: number;
  text: string;
  headingPath: string;
  page: number | null;
  document: { id: string; title: string };
}
interface Hit {
  chunk: ChunkRef;
  snippet: string;
  score: number;
}
interface Answer {
  text: string;
  model: string;
  unanswered: boolean;
  citations: { n: number; quote: string; chunk: ChunkRef }[];
  timings: { stage: string; ms: number }[];
  traceId: string | null;
}

const CHUNK = 'id ordinal text headingPath page document { id title }';
const SEARCH = `query Search($query: String!) { search(query: $query, first: 10) { snippet score chunk { ${CHUNK} } } }`;
const ASK = `query Ask($question: String!) { ask(question: $question) {
  text model unanswered traceId citations { n quote chunk { ${CHUNK} } } timings { stage ms }
} }`;

const ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
  '&#x27;': "'",
};
const unescapeHtml = (text: string) => text.replace(/&(amp|lt|gt|quot|#39|#x27);/g, (e) => ENTITIES[e] ?? e);

/** The snippet's `<mark>…</mark>` as <mark> elements, everything else as text (never parsed as HTML). */
export function Snippet({ html }: { html: string }) {
  const parts = html.split(/(<mark>|<\/mark>)/);
  let marked = false;
  const out = [];
  for (const part of parts) {
    if (part === '<mark>') marked = true;
    else if (part === '</mark>') marked = false;
    else if (part) out.push(marked ? <mark>{unescapeHtml(part)}</mark> : unescapeHtml(part));
  }
  return <p class="snippet">{out}</p>;
}

/** The answer's text with each `[n]` a button that opens the cited passage. */
function AnswerText({ text, onCite }: { text: string; onCite(n: number): void }) {
  const parts = text.split(/(\[\d+\])/);
  return (
    <p class="answer-text">
      {parts.map((part) => {
        const n = /^\[(\d+)\]$/.exec(part)?.[1];
        if (!n) return part;
        return (
          <button type="button" class="cite" aria-label={`source ${n}`} onClick={() => onCite(Number(n))}>
            [{n}]
          </button>
        );
      })}
    </p>
  );
}

export function SearchAsk() {
  const { graph } = useConsole();
  const [query, setQuery] = useState('');
  const [hits, setHits] = useState<Hit[]>();
  const [answer, setAnswer] = useState<Answer>();
  const [cited, setCited] = useState<number>();
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = (kind: 'search' | 'ask') => (event: Event) => {
    event.preventDefault();
    if (!query.trim()) return;
    setBusy(true);
    setError(undefined);
    const done = () => setBusy(false);
    if (kind === 'search') {
      graph.request<{ search: Hit[] }>(SEARCH, { query }).then(
        (d) => {
          setHits(d.search);
          setAnswer(undefined);
          done();
        },
        (e: unknown) => {
          setError(e);
          done();
        },
      );
    } else {
      graph.request<{ ask: Answer }>(ASK, { question: query }).then(
        (d) => {
          setAnswer(d.ask);
          setHits(undefined);
          setCited(undefined);
          done();
        },
        (e: unknown) => {
          setError(e);
          done();
        },
      );
    }
  };
  const citation = answer?.citations.find((c) => c.n === cited);
  return (
    <section aria-labelledby="search-title" class="search">
      <h2 id="search-title">Search and ask</h2>
      <form onSubmit={run('search')}>
        <label for="search-query">Words to find, or a question</label>
        <input
          id="search-query"
          value={query}
          onInput={(e) => setQuery((e.target as HTMLInputElement).value)}
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Search
          </button>
          <button type="button" disabled={busy} onClick={run('ask')}>
            Ask
          </button>
        </div>
      </form>
      {error !== undefined && <ErrorNote error={error} />}
      {hits && hits.length === 0 && (
        <Empty title="Nothing found.">
          <p>Only READY documents are searched; try other words.</p>
        </Empty>
      )}
      {hits && hits.length > 0 && (
        <ol class="hits" aria-label="search results">
          {hits.map((h) => (
            <li key={h.chunk.id}>
              <strong>{h.chunk.document.title}</strong>
              {h.chunk.headingPath ? <span class="hint"> › {h.chunk.headingPath}</span> : null}
              <Snippet html={h.snippet} />
            </li>
          ))}
        </ol>
      )}
      {answer && (
        <div class="answer" data-testid="answer">
          <h3>Answer</h3>
          <AnswerText text={answer.text} onCite={setCited} />
          <p class="hint">Written by {answer.model}.</p>
          <Timings timings={answer.timings} />
          {answer.traceId && <TraceLink id={answer.traceId} />}
          {answer.citations.length > 0 && (
            <ol class="citations" aria-label="sources">
              {answer.citations.map((c) => (
                <li key={c.n}>
                  <button type="button" class="link" onClick={() => setCited(c.n)}>
                    [{c.n}] {c.chunk.document.title}
                  </button>
                  : “{c.quote}”
                </li>
              ))}
            </ol>
          )}
          {citation && <InDocument key={citation.n} chunk={citation.chunk} quote={citation.quote} />}
        </div>
      )}
    </section>
  );
}

/** The answer's stage timings (each stage is a span of its trace). */
function Timings({ timings }: { timings: Answer['timings'] }) {
  return (
    <dl class="timings" aria-label="stage timings" data-testid="timings">
      {timings.map((t) => (
        <div key={t.stage}>
          <dt>{t.stage}</dt>
          <dd>{t.ms.toFixed(1)} ms</dd>
        </div>
      ))}
    </dl>
  );
}

/** The answer's trace: a link to its flame graph for those who may read traces. */
function TraceLink({ id }: { id: string }) {
  const { navigate } = useConsole();
  const allowed = useHasRole('Auditor', 'Admin');
  if (!allowed) return <p class="hint">Trace {id} (Auditors and Admins can open its flame graph).</p>;
  const path = `/console/traces/${id}`;
  return (
    <p>
      <a
        href={path}
        onClick={(e) => {
          e.preventDefault();
          navigate(path);
        }}
      >
        Open the trace of this answer
      </a>
    </p>
  );
}
