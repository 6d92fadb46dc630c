// Our gateway, alone in its own process, as deployed: the bench measures this process's CPU.
import { readFile } from 'node:fs/promises';
import { createLogger } from '#kernel/logger.ts';
import { startGateway } from '../../gateway/src/gateway.ts';
import { readSpec, serve } from './spec.ts';

const spec = readSpec();
const gateway = await startGateway({
  supergraphSdl: await readFile(spec.supergraphFile, 'utf8'),
  subgraphUrls: spec.subgraphUrls,
  auth: spec.auth,
  host: '127.0.0.1',
  port: 0,
  introspection: false,
  apolloTelemetry: false,
  logger: createLogger('gateway', { level: 'warn' }),
});
serve(gateway.url, () => gateway.close());
