// Knowledge: the tenant's documents with live ingestion status, and uploads with a progress bar
// (the GraphQL `ingestDocument` mutation, the file sent as base64) that then follow their document's
// status live (`documentStatusChanged`) until READY or FAILED.
import { useRef, useState } from 'preact/hooks';
import { GraphQLFailure } from '../api/graphql.ts';
import { Badge, Empty, ErrorNote, When } from '../ui/common.tsx';
import { useConsole, useHasRole, useLive, useQuery } from '../ui/context.ts';
import { SearchAsk } from './search-ask.tsx';

interface DocumentRow {
  id: string;
  title: string;
  mimeType: string;
  status: string;
  error: string | null;
  chunkCount: number | null;
  pageCount: number | null;
  bytes: number | null;
  version: number;
  updatedAt: string;
}

const DOCUMENTS = `{ documents(first: 50) { edges { node {
  id title mimeType status error chunkCount pageCount bytes version updatedAt
} } } }`;
const INGEST = 'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id status } }';
const CHANGED = 'subscription { documentStatusChanged { documentId to } }';
interface StatusChange {
  documentStatusChanged: { documentId: string; to: string };
}
const SETTLED = new Set(['READY', 'FAILED']);

/** The MIME type the knowledge pipeline expects for a file the browser could not type. */
function mimeOf(file: File): string {
  if (file.type) return file.type;
  if (/\.md$/i.test(file.name)) return 'text/markdown';
  if (/\.docx$/i.test(file.name))
    return 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';
  return 'text/plain';
}

function base64(bytes: ArrayBuffer): string {
  const view = new Uint8Array(bytes);
  let binary = '';
  for (let i = 0; i < view.length; i += 0x8000)
    binary += String.fromCharCode(...view.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** Posts `ingestDocument` with upload progress (fetch reports none; XMLHttpRequest does); resolves with the document. */
function upload(token: string, file: File, content: string, onProgress: (fraction: number) => void) {
  return new Promise<{ id: string; status: string }>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/graphql');
    xhr.setRequestHeader('content-type', 'application/json');
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onerror = () => reject(new GraphQLFailure('The upload did not reach the gateway.', 'NETWORK'));
    xhr.onload = () => {
      const body = JSON.parse(xhr.responseText || '{}') as {
        data?: { ingestDocument: { id: string; status: string } };
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      const first = body.errors?.[0];
      if (first) reject(new GraphQLFailure(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
      else if (!body.data) reject(new GraphQLFailure(`The gateway answered HTTP ${xhr.status}.`, 'NETWORK'));
      else resolve(body.data.ingestDocument);
    };
    xhr.send(
      JSON.stringify({
        query: INGEST,
        variables: {
          input: {
            title: file.name,
            mimeType: mimeOf(file),
            contentBase64: content,
            sourceUri: `upload://${file.name}`,
          },
        },
      }),
    );
  });
}

export function KnowledgePage() {
  const { data, error, loading, reload } = useQuery<{ documents: { edges: { node: DocumentRow }[] } }>(
    DOCUMENTS,
  );
  const documents = data?.documents.edges.map((e) => e.node) ?? [];
  const busy = documents.some((d) => !SETTLED.has(d.status));
  useLive(CHANGED, reload);
  return (
    <section aria-labelledby="knowledge-title">
      <h1 id="knowledge-title">Knowledge</h1>
      <Upload onUploaded={reload} />
      <SearchAsk />
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && documents.length === 0 && (
        <Empty title="No documents yet.">
          <p>
            Upload text, Markdown, HTML, PDF or DOCX files above, or run npm run ingest -- ./folder --tenant
            demo.
          </p>
        </Empty>
      )}
      {documents.length > 0 && (
        <table>
          <caption>
            {busy ? 'Ingesting: statuses refresh every second.' : 'Every document is settled.'}
          </caption>
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Status</th>
              <th scope="col">Chunks</th>
              <th scope="col">Pages</th>
              <th scope="col">Bytes</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {documents.map((d) => (
              <tr key={d.id} data-document={d.title}>
                <td>
                  {d.title} <span class="hint">v{d.version}</span>
                  {d.error && <p class="error-text">{d.error}</p>}
                </td>
                <td>
                  <Badge value={d.status} />
                </td>
                <td>{d.chunkCount ?? '–'}</td>
                <td>{d.pageCount ?? '–'}</td>
                <td>{d.bytes ?? '–'}</td>
                <td>
                  <When at={d.updatedAt} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/** One file sent from this page: its upload progress, then its document's live status. */
interface Sent {
  name: string;
  fraction: number;
  documentId?: string;
  status?: string;
}

function Upload({ onUploaded }: { onUploaded(): void }) {
  const { session } = useConsole();
  const allowed = useHasRole('Contributor', 'Admin');
  const [sent, setSent] = useState<Sent[]>([]);
  // Uploads are appended in order, so a file's index in the list is known before the state updates.
  const count = useRef(0);
  const [error, setError] = useState<unknown>();
  useLive<StatusChange>(CHANGED, ({ documentStatusChanged: { documentId, to } }) =>
    setSent((all) => all.map((s) => (s.documentId === documentId ? { ...s, status: to } : s))),
  );
  if (!allowed) return <p class="hint">Uploading needs the Contributor or Admin role.</p>;
  const update = (index: number, change: Partial<Sent>) =>
    setSent((all) => all.map((s, i) => (i === index ? { ...s, ...change } : s)));
  const send = async (files: FileList | null) => {
    setError(undefined);
    for (const file of Array.from(files ?? [])) {
      const index = count.current++;
      setSent((all) => [...all, { name: file.name, fraction: 0 }]);
      try {
        const content = base64(await file.arrayBuffer());
        const document = await upload(await session.token(), file, content, (fraction) =>
          update(index, { fraction }),
        );
        // A push may have come before the answer: keep a later status than the mutation's.
        setSent((all) =>
          all.map((s, i) =>
            i === index
              ? { ...s, fraction: 1, documentId: document.id, status: s.status ?? document.status }
              : s,
          ),
        );
        onUploaded();
      } catch (e) {
        update(index, { status: 'NOT SENT' });
        setError(e);
      }
    }
  };
  return (
    <div class="upload">
      <label for="upload-files">Upload documents</label>
      <input
        id="upload-files"
        type="file"
        multiple
        accept=".txt,.md,.html,.htm,.pdf,.docx,text/plain,text/markdown,text/html,application/pdf"
        onChange={(e) => void send((e.target as HTMLInputElement).files)}
      />
      {sent.length > 0 && (
        <ul class="uploads" aria-label="uploads" aria-live="polite">
          {sent.map((s, i) => (
            <li key={i} data-upload={s.name}>
              <label for={`upload-progress-${i}`}>
                {s.fraction < 1 ? `Sending ${s.name}` : `Sent ${s.name}`}
              </label>{' '}
              <progress id={`upload-progress-${i}`} max={1} value={s.fraction} />{' '}
              <span class="hint">{Math.round(s.fraction * 100)}%</span>{' '}
              {s.status && <Badge value={s.status} />}
            </li>
          ))}
        </ul>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </div>
  );
}
