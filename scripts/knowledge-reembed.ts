// npm run knowledge:reembed -- [--tenant <slug|id>]... [--batch 64]
// Re-embeds every chunk that is not on the configured model (EMBEDDINGS_* as the workers read them)
// while search keeps answering from the old vectors: per tenant, new vectors are staged in
// knowledge.chunk_embeddings_next, then the tenant is switched in one transaction (ADR 0017).
// Without --tenant, every tenant with chunks on another model. Resumable: a second run continues
// where an interrupted one stopped. Progress per batch, a summary at the end.
import { parseArgs } from 'node:util';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { ConfigError } from '#kernel/errors.ts';
import { isUuid } from '#kernel/ids.ts';
import { loadKnowledgeConfig } from '../subgraphs/knowledge/src/config.ts';
import {
  DEFAULT_REEMBED_BATCH,
  pendingTenants,
  remainingToStage,
  stageBatch,
  switchTenant,
} from '../subgraphs/knowledge/src/domain/reembed.service.ts';
import {
  assertEmbeddingColumn,
  createEmbedder,
} from '../subgraphs/knowledge/src/embeddings/create-embedder.ts';
import { openDatabaseForCli } from './lib/database-for-cli.ts';

const out = (line: string) => process.stdout.write(`${line}\n`);
const status = (line: string) => process.stderr.write(process.stderr.isTTY ? `\r\x1b[K${line}` : `${line}\n`);

const { values } = parseArgs({
  options: {
    tenant: { type: 'string', multiple: true },
    batch: { type: 'string', default: String(DEFAULT_REEMBED_BATCH) },
  },
});

function eta(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  return seconds >= 60
    ? `${Math.floor(seconds / 60)}m ${Math.round(seconds % 60)}s`
    : `${Math.round(seconds)}s`;
}

try {
  const batch = Number(values.batch);
  if (!Number.isInteger(batch) || batch < 1 || batch > 2048) {
    throw new ConfigError([`--batch must be a whole number from 1 to 2048 (got "${values.batch}")`]);
  }
  const knowledge = loadKnowledgeConfig();
  const embedder = createEmbedder(knowledge.embeddings);
  const { orm, close } = await openDatabaseForCli();
  const started = Date.now();
  const summary: string[] = [];
  try {
    await assertEmbeddingColumn(orm.em.fork(), embedder);
    const pending = await pendingTenants(orm.em.fork(), embedder.model);
    const tenants = values.tenant
      ? values.tenant.map((t) => (isUuid(t) ? t.toLowerCase() : devTenantId(t)))
      : pending.map((p) => p.tenantId);
    out(
      `re-embedding into ${embedder.model}: ${tenants.length} tenant(s), ` +
        `${pending.filter((p) => tenants.includes(p.tenantId)).reduce((n, p) => n + p.pending, 0)} chunk(s) on other models`,
    );
    let total = 0;
    for (const tenantId of tenants) {
      const todo = await withTenant(orm, tenantId, (em) => remainingToStage(em, embedder.model));
      const tenantStarted = Date.now();
      let staged = 0;
      let lastId: string | undefined;
      for (;;) {
        const step = await withTenant(orm, tenantId, (em) =>
          stageBatch(em, tenantId, embedder, lastId, batch),
        );
        if (step.staged === 0) break;
        staged += step.staged;
        lastId = step.lastId;
        const rate = staged / ((Date.now() - tenantStarted) / 1000);
        status(
          `  tenant ${tenantId}: ${staged}/${todo} chunks staged, ${rate.toFixed(1)}/s, ETA ${eta((todo - staged) / rate)}`,
        );
      }
      if (process.stderr.isTTY && staged > 0) process.stderr.write('\n');
      const switchStarted = Date.now();
      const result = await withTenant(orm, tenantId, (em) => switchTenant(em, embedder));
      total += result.switched + result.stragglers;
      summary.push(
        `  tenant ${tenantId}: ${result.switched} chunk(s) switched, ${result.stragglers} written meanwhile and embedded ` +
          `during the switch (${((Date.now() - switchStarted) / 1000).toFixed(1)} s)`,
      );
    }
    out(
      `done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${total} chunk(s) now on ${embedder.model}`,
    );
    for (const line of summary) out(line);
  } finally {
    await close();
    await embedder.close?.();
  }
  process.exit(0); // the TensorFlow.js backend keeps the event loop alive
} catch (error) {
  process.stderr.write(
    `${error instanceof ConfigError ? error.message : `re-embedding failed: ${String(error)}`}\n`,
  );
  process.exit(1);
}
