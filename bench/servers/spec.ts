// What a benchmark gateway process is told by the bench: which supergraph, where the subgraphs
// listen, which issuer to trust. Passed as JSON in one environment variable, so a child process
// needs no other set-up.
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

/** Tells the parent where the gateway listens, and stops it (cleanly, so --cpu-prof writes its file) when asked. */
export function serve(url: string, close: () => Promise<void>): void {
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
