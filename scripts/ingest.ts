// npm run ingest -- <file|folder|glob>... --tenant <slug|id> [--url <graphql url>] [--token <jwt>]
//   [--user <name>] [--wait] [--concurrency <n>]
// Sends documents to the platform through the gateway's API (the same pipeline as any client):
// skips what is already there (by SHA-256), streams each file from disk to the gateway's
// POST /documents (no base64, no JSON body, any size up to KNOWLEDGE_MAX_UPLOAD_BYTES), shows
// progress (files, bytes as they are sent, ETA) and ends with a summary: ingested, unchanged,
// failed with reasons. --wait also waits for ingestion to finish.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { devIssuerEndpoints, loadOrCreateDevKeys, signDevToken } from '#kernel/auth/dev-issuer.ts';
import { loadConfig } from '#kernel/config.ts';
import { isUuid } from '#kernel/ids.ts';
import { findFiles, megabytes, progressLine } from './lib/ingest-files.ts';

const USAGE =
  'usage: npm run ingest -- <file|folder|glob>... --tenant <slug|id> [--url http://127.0.0.1:4000/graphql] [--token <jwt>] [--user <name>] [--wait] [--concurrency <n>]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    url: { type: 'string' },
    token: { type: 'string' },
    user: { type: 'string', default: 'ingest' },
    wait: { type: 'boolean', default: false },
    concurrency: { type: 'string', default: '2' },
  },
});

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

/** The tenant id a JWT claims (not verified here: the API verifies it). */
function claimedTenant(token: string): string | undefined {
  try {
    return (
      JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { tid?: string }
    ).tid;
  } catch {
    return undefined;
  }
}

async function tokenFor(tenant: string): Promise<string> {
  const given = values.token ?? process.env.WIDGETDC_TOKEN;
  const tid = isUuid(tenant) ? tenant.toLowerCase() : devTenantId(tenant);
  if (given) {
    if (claimedTenant(given)?.toLowerCase() !== tid)
      fail(`the token is not for tenant ${tenant} (tid ${tid})`);
    return given;
  }
  if (isUuid(tenant))
    fail('a tenant given by id needs --token (or WIDGETDC_TOKEN): development tokens are minted by slug');
  const config = loadConfig();
  const keys = await loadOrCreateDevKeys(config.dataDir);
  return signDevToken(keys, {
    tenant,
    user: values.user,
    roles: ['Contributor'],
    audience: config.auth.audience,
    issuer: devIssuerEndpoints(config.host, config.auth.devIssuerPort).issuer,
    ttlSeconds: 3600,
  });
}

interface GraphQLAnswer<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

async function call<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown>,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
  } catch (error) {
    throw new Error(
      `cannot reach ${url} (${(error as Error).cause ?? (error as Error).message}); is npm start running?`,
    );
  }
  const text = await response.text();
  let answer: GraphQLAnswer<T>;
  try {
    answer = JSON.parse(text) as GraphQLAnswer<T>;
  } catch {
    throw new Error(`HTTP ${response.status} from ${url}: ${text.slice(0, 200)}`);
  }
  if (answer.errors?.length) {
    const [first] = answer.errors;
    throw new Error(`${first!.extensions?.code ? `${first!.extensions.code}: ` : ''}${first!.message}`);
  }
  return answer.data as T;
}

/** The SHA-256 of a file, read as a stream (the file is never held whole). */
async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** How often the progress line is redrawn while bytes stream. */
const REDRAW_MS = 200;

/**
 * Streams a file to the gateway's `POST /documents`, counting bytes into the progress line as they
 * are sent (the gateway reads at the subgraph's pace, so the count follows the upload).
 */
async function uploadFile(
  file: { path: string; bytes: number; mimeType: string },
  sent: (bytes: number) => void,
): Promise<{ id: string }> {
  const query = new URLSearchParams({
    title: basename(file.path).slice(0, 500),
    sourceUri: pathToFileURL(file.path).href,
  });
  const target = new URL(`/documents?${query}`, url);
  async function* body() {
    for await (const chunk of createReadStream(file.path)) {
      sent((chunk as Buffer).byteLength);
      yield chunk as Buffer;
    }
  }
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(target, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': file.mimeType,
        'content-length': String(file.bytes),
      },
      body: Readable.from(body()),
    });
  } catch (error) {
    throw new Error(`cannot upload to ${target.origin} (${(error as Error).message}); is npm start running?`);
  }
  const text = await response.body.text();
  let answer: { document?: { id: string }; errors?: { message: string; extensions?: { code?: string } }[] };
  try {
    answer = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${response.statusCode} from ${target.origin}: ${text.slice(0, 200)}`);
  }
  const [first] = answer.errors ?? [];
  if (first) throw new Error(`${first.extensions?.code ? `${first.extensions.code}: ` : ''}${first.message}`);
  if (!answer.document)
    throw new Error(`HTTP ${response.statusCode} from ${target.origin} named no document`);
  return answer.document;
}

const BY_CONTENT = 'query ($sha256: String!) { documentByContent(sha256: $sha256) { id status } }';
const STATUS = 'query ($id: ID!) { document(id: $id) { status error chunkCount } }';

const args = positionals;
if (args.length === 0) fail('name at least one file, folder or glob');
if (!values.tenant) fail('--tenant <slug|id> is required');
const concurrency = Number(values.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 16) {
  fail(`--concurrency must be a whole number from 1 to 16 (got "${values.concurrency}")`);
}
const url = values.url ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 4000}/graphql`;
const token = await tokenFor(values.tenant);
const found = await findFiles(args);
const files = found.filter((f): f is Extract<typeof f, { bytes: number }> => 'bytes' in f);
for (const skipped of found.filter((f) => 'skipped' in f)) {
  process.stderr.write(`skipped ${skipped.path}: ${(skipped as { skipped: string }).skipped}\n`);
}
const total = { files: files.length, bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
const done = { files: 0, bytes: 0 };
const startedAt = Date.now();
const ingested: { path: string; id: string }[] = [];
const unchanged: string[] = [];
const failed: { path: string; reason: string }[] = [];
const tty = process.stderr.isTTY;
const show = (line: string) => {
  if (tty) process.stderr.write(`\r\x1b[2K${line}`);
  else process.stderr.write(`${line}\n`);
};

let redrawn = 0;
async function one(file: (typeof files)[number]): Promise<void> {
  let counted = 0;
  try {
    const sha256 = await sha256Of(file.path);
    const known = await call<{ documentByContent: { id: string } | null }>(url, token, BY_CONTENT, {
      sha256,
    });
    if (known.documentByContent) {
      unchanged.push(file.path);
      return;
    }
    const document = await uploadFile(file, (bytes) => {
      counted += bytes;
      done.bytes += bytes;
      if (tty && Date.now() - redrawn > REDRAW_MS) {
        redrawn = Date.now();
        show(progressLine(done, total, startedAt));
      }
    });
    ingested.push({ path: file.path, id: document.id });
  } catch (error) {
    failed.push({ path: file.path, reason: (error as Error).message });
  } finally {
    done.files++;
    // Whatever was not sent (unchanged, refused early, a file that changed size) counts as done.
    done.bytes += file.bytes - counted;
    show(progressLine(done, total, startedAt));
  }
}

const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(concurrency, queue.length) }, async () => {
    for (let file = queue.shift(); file; file = queue.shift()) await one(file);
  }),
);
if (tty && files.length) process.stderr.write('\n');

if (values.wait) {
  const pending = new Map(ingested.map((d) => [d.id, d.path]));
  const queued = pending.size;
  while (pending.size > 0) {
    for (const [id, path] of [...pending]) {
      const { document } = await call<{ document: { status: string; error: string | null } | null }>(
        url,
        token,
        STATUS,
        { id },
      );
      if (!document || document.status === 'READY') pending.delete(id);
      else if (document.status === 'FAILED') {
        pending.delete(id);
        failed.push({ path, reason: `ingestion failed: ${document.error}` });
        ingested.splice(
          ingested.findIndex((d) => d.id === id),
          1,
        );
      }
    }
    show(`waiting for ingestion: ${pending.size} of ${queued} documents still in progress`);
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 500));
  }
  if (tty) process.stderr.write('\n');
}

const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
process.stdout.write(
  `${values.wait ? 'ingested' : 'queued'} ${ingested.length}, unchanged ${unchanged.length}, failed ${failed.length}, ` +
    `skipped ${found.length - files.length} (${megabytes(total.bytes)} MB in ${seconds} s)\n`,
);
for (const { path, reason } of failed) process.stdout.write(`failed ${path}: ${reason}\n`);
process.exit(failed.length > 0 ? 1 : 0);
