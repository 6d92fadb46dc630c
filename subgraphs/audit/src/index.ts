import { generationRetentionSchema, loadConfig, parseEnv, traceStoreSchema } from '#kernel/config.ts';
import { assertApplicationRole } from '#kernel/db/app-role-guard.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { ConfigError } from '#kernel/errors.ts';
import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { createGenerationRecorder } from '#llm/generations/generation-recorder.ts';
import { loadAnchorKey } from './anchor/anchor-key.ts';
import { FileAnchorStore } from './anchor/anchor-store.ts';
import { ChainAnchor } from './anchor/chain-anchor.ts';
import { startCheckpointTimer } from './anchor/checkpointer.ts';
import { loadAuditConfig, loadReplayConfig } from './config.ts';
import { AuditEventSchema } from './domain/audit-event.entity.ts';
import { startGenerationSweeper } from './llmops/generation-sweeper.ts';
import { startTraceSweeper } from './observability/trace-sweeper.ts';
import { createAuditSubgraph } from './subgraph.ts';

/** Connections of the checkpoint timer's own pool (one round at a time). */
const CHECKPOINT_POOL_MAX = 2;

const config = loadConfig();
const audit = loadAuditConfig();
const replay = loadReplayConfig();
const logger = createLogger('audit', config.log);
if (!config.database.url) {
  throw new ConfigError(['DATABASE_URL must be set (npm start sets it for the embedded database)']);
}
const anchor = new ChainAnchor(
  await loadAnchorKey(audit.keyFile, audit.generateKey),
  new FileAnchorStore(audit.anchorDir),
);
logger.info(`audit checkpoints signed by key ${anchor.key.keyId}, stored in ${audit.anchorDir}`);
const orm = await createOrm({
  url: config.database.url,
  entities: [AuditEventSchema],
  poolMax: CHECKPOINT_POOL_MAX,
});
await assertApplicationRole(orm);
const timer =
  audit.checkpointIntervalMs > 0
    ? startCheckpointTimer(orm, anchor, audit.checkpointIntervalMs, logger.child('checkpoint'))
    : undefined;
// Stored spans (every process writes its own) are swept here, past TRACE_RETENTION (ADR 0024).
const { retentionMs } = parseEnv(traceStoreSchema, process.env);
const sweeper = retentionMs > 0 ? startTraceSweeper(orm, retentionMs, logger.child('traces')) : undefined;
// Generation records (every process writes its own) too, past GENERATION_RETENTION (ADR 0037).
const generations = parseEnv(generationRetentionSchema, process.env);
const generationSweeper = startGenerationSweeper(orm, generations.retentionMs, logger.child('generations'));
// replayGeneration asks the configured chat model (Azure without a key signs in as the service, ADR 19).
const replayDependencies = {
  llm: replay.llm,
  recorder: createGenerationRecorder(replay.generations, {
    onRecordError: (error) =>
      logger.warn(`a failed replay's generation could not be recorded: ${String(error)}`),
  }),
  chat: { auth: config.auth },
};
await runSubgraph(createAuditSubgraph({ anchor, replay: replayDependencies }), {
  port: audit.port,
  onClose: async () => {
    await generationSweeper.stop();
    await sweeper?.stop();
    await timer?.stop();
    await orm.close();
  },
});
