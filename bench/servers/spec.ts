// What a benchmark gateway process is told by the bench: which supergraph, where the subgraphs
// listen, which issuer to trust. Passed as JSON in one environment variable, so a child process
// needs no other set-up.
import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import type { TokenVerifierOptions } from '#kernel/auth/token-verifier.ts';

/** The environment variable carrying a {@link GatewaySpec}. */
export const SPEC_ENV = 'BENCH_GATEWAY_SPEC';

/** Everything a gateway under test needs to serve the bench's graph. */
export interface GatewaySpec {
  supergraphFile: string;
  /** Routing URL of each subgraph, by its `join__Graph` name. */
  subgraphUrls: Record<string, string>;
  /** Trust of our verifier (the test issuer); Hive's JWT plugin gets the same JWKS, issuer and audience. */
  auth: TokenVerifierOptions;
  /** The issuer of the bench's tokens (its `{tid}` filled in), for Hive's JWT plugin. */
  tokenIssuer: string;
}

/** Reads the spec from the environment; a child started without it stops with a clear message. */
export function readSpec(): GatewaySpec {
  const raw = process.env[SPEC_ENV];
  if (!raw)
    throw new Error(
      `${SPEC_ENV} must hold the bench's gateway spec (JSON); start this file through bench/gateway.ts`,
    );
  return JSON.parse(raw) as GatewaySpec;
}

/** The environment variable naming a folder: the process then profiles its CPU while the parent asks. */
export const PROFILE_ENV = 'BENCH_PROFILE_DIR';

/** CPU profiling of this process between the parent's `profile-start` and `profile-stop` (measured phases only). */
function profiler(dir: string) {
  const session = new Session();
  session.connect();
  const post = (method: string) =>
    new Promise<unknown>((resolve, reject) =>
      session.post(method, (error, result) => (error ? reject(error) : resolve(result))),
    );
  let part = 0;
  return {
    start: async () => {
      await post('Profiler.enable');
      await post('Profiler.start');
    },
    stop: async () => {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      part += 1;
      await writeFile(join(dir, `gateway-${process.pid}-${part}.cpuprofile`), JSON.stringify(profile));
    },
  };
}

/** Tells the parent where the gateway listens, profiles when asked, and stops cleanly when asked. */
export function serve(url: string, close: () => Promise<void>): void {
  const dir = process.env[PROFILE_ENV];
  const profile = dir ? profiler(dir) : undefined;
  process.on('message', (message: { type?: string }) => {
    const step =
      message?.type === 'profile-start'
        ? profile?.start
        : message?.type === 'profile-stop'
          ? profile?.stop
          : undefined;
    if (!step) return;
    void step()
      .then(() => process.send?.({ type: `${message.type}-done` }))
      .catch((error: unknown) => process.stderr.write(`profile: ${error}\n`));
  });
  process.send?.({ type: 'ready', url });
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    void close()
      .catch((error: unknown) => process.stderr.write(`close: ${error}\n`))
      .finally(() => process.exit(0));
  };
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'stop') stop();
  });
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
}
