/**
 * Sends every corpus page through the platform's own ingestion (`ingestDocument`, then the
 * knowledge-ingest worker) and waits until each is READY. Pages already in the tenant are found by
 * their SHA-256 (`documentByContent`) and not sent again, so a second run costs a few queries.
 */
import { createHash } from 'node:crypto';
import type { CorpusPage } from './corpus.ts';
import { graphql } from './graphql-client.ts';

/** Where the corpus pages are said to come from (each page's `sourceUri` is this plus its file name). */
export const SOURCE_PREFIX = 'debian-handbook:en-US/';
/** How often ingestion status is polled. */
const POLL_MS = 1000;
/** Documents asked for in one status request. */
const ALIASES = 20;
/** Pages uploaded per batch before polling again. */
const UPLOAD_BATCH = 8;

/** A page as a document of the platform. */
export interface IngestedPage {
  readonly file: string;
  readonly documentId: string;
  readonly status: string;
  readonly chunkCount: number | null;
  readonly error: string | null;
}

/** What an ingestion pass did. */
export interface IngestSummary {
  readonly pages: IngestedPage[];
  /** Pages found already ingested (by content). */
  readonly reused: number;
  readonly uploaded: number;
  readonly failed: number;
  readonly chunks: number;
  readonly seconds: number;
}

interface DocumentState {
  id: string;
  status: string;
  chunkCount: number | null;
  error: string | null;
}

const FIELDS = 'id status chunkCount error';

/** The title of an HTML page (its `<title>`), or its file name. */
function titleOf(page: CorpusPage): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(page.html)?.[1]?.replace(/\s+/g, ' ').trim();
  return (title || page.file).slice(0, 500);
}

/** Ingests `pages` (skipping those already there) and waits for all of them; `progress` gets a line per change. */
export async function ingestCorpus(
  url: string,
  token: () => Promise<string>,
  pages: readonly CorpusPage[],
  progress: (line: string) => void,
): Promise<IngestSummary> {
  const started = Date.now();
  const state = new Map<string, DocumentState>();
  let reused = 0;
  let uploaded = 0;
  for (let i = 0; i < pages.length; i += UPLOAD_BATCH) {
    const bearer = await token();
    for (const page of pages.slice(i, i + UPLOAD_BATCH)) {
      const bytes = Buffer.from(page.html, 'utf8');
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const found = await graphql<{ documentByContent: DocumentState | null }>(
        url,
        bearer,
        `query ($sha256: String!) { documentByContent(sha256: $sha256) { ${FIELDS} } }`,
        { sha256 },
      );
      if (found.documentByContent && found.documentByContent.status !== 'FAILED') {
        state.set(page.file, found.documentByContent);
        reused++;
        continue;
      }
      const created = await graphql<{ ingestDocument: DocumentState }>(
        url,
        bearer,
        `mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { ${FIELDS} } }`,
        {
          input: {
            title: titleOf(page),
            mimeType: 'text/html',
            contentBase64: bytes.toString('base64'),
            sourceUri: `${SOURCE_PREFIX}${page.file}`,
            language: 'en',
            metadata: { corpus: 'debian-handbook', page: page.file },
          },
        },
      );
      state.set(page.file, created.ingestDocument);
      uploaded++;
    }
    progress(progressLine(state, pages.length, started, 'uploading'));
  }
  for (;;) {
    const pending = [...state.entries()].filter(([, d]) => d.status !== 'READY' && d.status !== 'FAILED');
    if (pending.length === 0) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const fresh = await token();
    // One request asks for up to ALIASES documents (the operation limits cap aliases at 20).
    for (let i = 0; i < pending.length; i += ALIASES) {
      const batch = pending.slice(i, i + ALIASES);
      const fields = batch.map(([, doc], j) => `d${j}: document(id: "${doc.id}") { ${FIELDS} }`).join(' ');
      const now = await graphql<Record<string, DocumentState | null>>(url, fresh, `{ ${fields} }`);
      for (const [j, [file, doc]] of batch.entries()) {
        const current = now[`d${j}`];
        if (!current) throw new Error(`document ${doc.id} of ${file} disappeared during ingestion`);
        state.set(file, current);
      }
    }
    progress(progressLine(state, pages.length, started, 'ingesting'));
  }
  const result = pages.map((page) => {
    const d = state.get(page.file)!;
    return { file: page.file, documentId: d.id, status: d.status, chunkCount: d.chunkCount, error: d.error };
  });
  return {
    pages: result,
    reused,
    uploaded,
    failed: result.filter((p) => p.status === 'FAILED').length,
    chunks: result.reduce((sum, p) => sum + (p.chunkCount ?? 0), 0),
    seconds: (Date.now() - started) / 1000,
  };
}

function progressLine(
  state: Map<string, DocumentState>,
  total: number,
  started: number,
  phase: string,
): string {
  const docs = [...state.values()];
  const ready = docs.filter((d) => d.status === 'READY').length;
  const failed = docs.filter((d) => d.status === 'FAILED').length;
  const width = 24;
  const filled = Math.round((width * (ready + failed)) / Math.max(1, total));
  const elapsed = (Date.now() - started) / 1000;
  const rate = (ready + failed) / Math.max(elapsed, 0.001);
  const eta = rate > 0 ? Math.ceil((total - ready - failed) / rate) : undefined;
  const chunks = docs.reduce((sum, d) => sum + (d.chunkCount ?? 0), 0);
  return (
    `ingest [${'='.repeat(filled)}${' '.repeat(width - filled)}] ${phase}: ${ready}/${total} pages ready` +
    `${failed ? `, ${failed} failed` : ''}, ${chunks} chunks, ${elapsed.toFixed(0)} s, ETA ${eta === undefined ? '?' : `${eta} s`}`
  );
}
