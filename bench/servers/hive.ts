// The Guild's Hive Gateway on the same supergraph and subgraphs, in its own process: the peer the
// bench compares against. `jwt` as first argument adds its JWT plugin, verifying against the same
// JWKS, issuer and audience as ours; without it Hive only forwards the token (the subgraphs verify).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createGatewayRuntime,
  createRemoteJwksSigningKeyProvider,
  extractFromHeader,
  type GatewayPlugin,
  useJWT,
} from '@graphql-hive/gateway';
import { readSpec, serve } from './spec.ts';

const spec = readSpec();
const withJwt = process.argv[2] === 'jwt';
const issuer = spec.auth.issuers[0];
if (!issuer) throw new Error('the bench spec names no issuer');

// In-flight deduplication off: every bench client sends the same query, which would flatter it.
const options = { deduplicateInflightRequests: false };
const plugins: GatewayPlugin[] = withJwt
  ? [
      useJWT({
        signingKeyProviders: [createRemoteJwksSigningKeyProvider({ jwksUri: issuer.jwksUrl })],
        tokenLookupLocations: [extractFromHeader({ name: 'authorization', prefix: 'Bearer' })],
        tokenVerification: {
          issuer: spec.tokenIssuer,
          audience: [...issuer.audiences] as [string, ...string[]],
          algorithms: ['RS256'],
        },
        reject: { missingToken: true, invalidToken: true },
      }) as GatewayPlugin,
    ]
  : [];

const runtime = createGatewayRuntime({
  supergraph: await readFile(spec.supergraphFile, 'utf8'),
  transportEntries: Object.fromEntries(
    Object.entries(spec.subgraphUrls).map(([name, location]) => [name, { location, options }]),
  ),
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) => ({ authorization: request.headers.get('authorization') ?? '' }),
  },
  plugins: () => plugins,
  logging: false,
  graphqlEndpoint: '/graphql',
  landingPage: false,
});
const server = createServer(runtime);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serve(`http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`, async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await runtime.dispose();
});
