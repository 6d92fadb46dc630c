import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import { generate } from 'selfsigned';

/** A confidential client (a worker's app registration) with the Entra-like claims its tokens carry. */
export interface TestOidcClient {
  clientId: string;
  clientSecret: string;
  /** `tid` of its tokens. */
  tenantId: string;
  /** `oid` of its tokens: the service principal's object id. */
  objectId: string;
  /** App roles (`roles`) granted to it. */
  roles: string[];
}

/** Options of {@link startTestOidcProvider}. */
export interface TestOidcProviderOptions {
  clients: TestOidcClient[];
  /** Resource servers by resource indicator (e.g. `api://<client id>`) → the `aud` their tokens carry. */
  resources: Record<string, string>;
  /** Lifetime of access tokens (default 3600 s). */
  accessTokenTtlSeconds?: number;
}

/** A real OpenID Connect provider (oidc-provider) over HTTPS with a self-signed certificate. */
export interface TestOidcProvider {
  /** Issuer and msal-node authority, `https://127.0.0.1:<port>`. */
  readonly issuer: string;
  readonly jwksUrl: string;
  /** `127.0.0.1:<port>`, for msal-node's `knownAuthorities`. */
  readonly host: string;
  /** The self-signed certificate (PEM) to trust, per client, instead of disabling TLS checks. */
  readonly ca: string;
  /** Access tokens issued so far. */
  readonly issued: number;
  close(): Promise<void>;
}

/**
 * Starts an OpenID provider issuing client-credentials JWT access tokens shaped like Entra ID's
 * app-only tokens: RS256, `aud` from the resource indicator (derived, as Entra does, from the
 * `<resource>/.default` scope when no `resource` parameter is sent), `tid`, `oid`, `roles`, `azp`.
 */
export async function startTestOidcProvider(options: TestOidcProviderOptions): Promise<TestOidcProvider> {
  const tls = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600_000),
    extensions: [
      { name: 'basicConstraints', cA: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  const server: Server = createServer({ key: tls.private, cert: tls.cert });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `https://${host}`;

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'RS256', use: 'sig' };
  const clients = new Map(options.clients.map((c) => [c.clientId, c]));
  const ttl = options.accessTokenTtlSeconds ?? 3600;
  const scopeOf = (resource: string) => `${resource}/.default`;

  const provider = new Provider(issuer, {
    clients: options.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      grant_types: ['client_credentials'],
      response_types: [],
      redirect_uris: [],
      token_endpoint_auth_method: 'client_secret_post',
    })),
    jwks: { keys: [signingKey] },
    ttl: { ClientCredentials: ttl },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        // Entra ID takes the resource from `<resource>/.default`; msal-node sends no `resource`.
        defaultResource: async (ctx) => {
          const scopes = String(ctx.oidc.params?.scope ?? '').split(' ');
          return scopes.find((s) => s.endsWith('/.default'))?.slice(0, -'/.default'.length);
        },
        getResourceServerInfo: async (_ctx, resource) => {
          const audience = options.resources[resource];
          if (!audience) throw new errors.InvalidTarget(`unknown resource ${resource}`);
          return {
            scope: scopeOf(resource),
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ttl,
            jwt: { sign: { alg: 'RS256' } },
          };
        },
        useGrantedResource: async () => true,
      },
    },
    extraTokenClaims: async (_ctx, token) => {
      const client = clients.get(String(token.clientId));
      if (!client) return undefined;
      return {
        tid: client.tenantId,
        oid: client.objectId,
        roles: client.roles,
        azp: client.clientId,
        idtyp: 'app',
        ver: '2.0',
      };
    },
  });
  let issued = 0;
  provider.on('grant.success', () => {
    issued += 1;
  });
  server.on('request', provider.callback());

  return {
    issuer,
    jwksUrl: `${issuer}/jwks`,
    host,
    ca: tls.cert,
    get issued() {
      return issued;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
