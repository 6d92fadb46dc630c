// `node --import ./kernel/src/telemetry/register.ts <entry>`: starts OpenTelemetry before the entry
// point loads anything it instruments. ESM imports of pg, ioredis and graphql are patched through
// the loader hook of @opentelemetry/instrumentation (import-in-the-middle), restricted to the
// modules the instrumentations patch; CommonJS requires through require-in-the-middle. With
// DATABASE_URL (and TRACE_RETENTION not 0) spans are also kept per tenant in PostgreSQL.
import { createRequire, register } from 'node:module';
import { basename, dirname } from 'node:path';
import { parseEnv } from '../config/env.ts';
import { telemetrySchema, traceStoreSchema } from '../config/telemetry.ts';
import { createLogger } from '../logger.ts';
import { INSTRUMENTED_MODULES, startTelemetry } from './sdk.ts';
import { TenantSpanStore } from './span-store.ts';

/** A failing span store is logged at most this often. */
const ERROR_LOG_INTERVAL_MS = 60_000;

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, {
  data: { include: [...INSTRUMENTED_MODULES] },
});

const serviceName = serviceNameOf(process.argv[1] ?? '');
const nodeEnv = process.env.NODE_ENV === 'production' ? 'production' : 'development';
const logger = createLogger('telemetry', parseEnv(telemetrySchema(nodeEnv), process.env).log);
const store = parseEnv(traceStoreSchema, process.env);
let lastError = 0;
startTelemetry({
  serviceName,
  spanProcessors:
    store.databaseUrl && store.retentionMs > 0
      ? [
          new TenantSpanStore({
            url: store.databaseUrl,
            onError: (error) => {
              if (Date.now() - lastError < ERROR_LOG_INTERVAL_MS) return;
              lastError = Date.now();
              logger.warn('spans could not be stored (they are dropped)', { error: String(error) });
            },
          }),
        ]
      : [],
});

/**
 * `service.name` from the entry point: `subgraphs/<name>/src/index.ts` → `<name>`,
 * `gateway/src/index.ts` → `gateway`, `scripts/worker.ts` → `worker`.
 */
export function serviceNameOf(entry: string): string {
  const parts = entry.split(/[\\/]/);
  const src = parts.lastIndexOf('src');
  if (src > 0 && basename(entry).startsWith('index.')) return parts[src - 1]!;
  const file = basename(entry).replace(/\.[cm]?[jt]s$/, '');
  return file || basename(dirname(entry)) || 'widgetdc';
}

// An ESM `import { createServer } from 'node:http'` is not seen by require-in-the-middle, and the
// loader hook is limited to the modules above: requiring node:http once lets the HTTP instrumentation
// patch `Server.prototype.emit` (incoming requests get their server span and the caller's trace)
// whoever loads the module later. Outgoing requests go through undici (fetch), traced by its own channel.
const require = createRequire(import.meta.url);
require('node:http');
require('node:https');
