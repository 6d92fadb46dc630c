// npm run ingest -- <file|folder|glob>... --tenant <slug|id> [--url <graphql url>] [--token <jwt>]
//   [--user <name>] [--wait] [--concurrency <n>]
// Sends documents to the platform through the gateway's API (the same mutation and pipeline as any
// client): skips what is already there (by SHA-256), shows progress (files, bytes, ETA) and ends with
// a summary: ingested, unchanged, failed with reasons. --wait also waits for ingestion to finish.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
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

const BY_CONTENT = 'query ($sha256: String!) { documentByContent(sha256: $sha256) { id status } }';
const INGEST = 'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id status } }';
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

async function one(file: (typeof files)[number]): Promise<void> {
  try {
    const bytes = await readFile(file.path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const known = await call<{ documentByContent: { id: string } | null }>(url, token, BY_CONTENT, {
      sha256,
    });
    if (known.documentByContent) {
      unchanged.push(file.path);
      return;
    }
    const result = await call<{ ingestDocument: { id: string } }>(url, token, INGEST, {
      input: {
        title: basename(file.path).slice(0, 500),
        mimeType: file.mimeType,
        contentBase64: bytes.toString('base64'),
        sourceUri: pathToFileURL(file.path).href,
      },
    });
    ingested.push({ path: file.path, id: result.ingestDocument.id });
  } catch (error) {
    failed.push({ path: file.path, reason: (error as Error).message });
  } finally {
    done.files++;
    done.bytes += file.bytes;
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
