import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from './context.ts';
import { createSubgraphFetcher, type SubgraphFetcher, type SubgraphResponse } from './subgraph-fetcher.ts';

/**
 * Headers that claim an identity in other stacks (proxies, App Service, IAP). Identity comes only
 * from the verified bearer token, so none of these ever reaches a subgraph.
 */
export const SPOOFABLE_IDENTITY_HEADERS = [
  'x-tenant-id',
  'x-tenant',
  'x-user-id',
  'x-user',
  'x-user-roles',
  'x-roles',
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-preferred-username',
  'x-forwarded-access-token',
  'x-auth-request-user',
  'x-auth-request-email',
  'x-remote-user',
  'remote-user',
  'x-ms-client-principal',
  'x-ms-client-principal-id',
  'x-ms-client-principal-name',
  'x-ms-client-principal-idp',
  'x-ms-token-aad-access-token',
  'x-goog-authenticated-user-email',
  'x-goog-iap-jwt-assertion',
  'x-amzn-oidc-identity',
  'x-amzn-oidc-data',
  'x-amzn-oidc-accesstoken',
  'x-apigateway-api-userinfo',
  'x-jwt-assertion',
  'x-client-dn',
  'ssl-client-cert',
  'cookie',
] as const;

/** Options of {@link AuthForwardingDataSource}. */
export interface AuthForwardingOptions {
  /** The subgraph's routing URL; required (undefined only to report a supergraph without one). */
  url: string | undefined;
  /** The subgraph's name, for error messages (its URL is internal and never shown). */
  name?: string;
  /** The client the requests go through; a process-wide default one when absent. */
  fetcher?: SubgraphFetcher;
}

let defaultFetcher: SubgraphFetcher | undefined;

/** What a data source answers the gateway (the type lives in an undeclared Apollo package). */
type GatewayResponse = Awaited<ReturnType<RemoteGraphQLDataSource<GatewayContext>['process']>>;

/**
 * Sends each subgraph request with the caller's own token (zero trust: every subgraph verifies
 * it again) and the request id, so logs across services line up. Nothing else of the caller's
 * request is forwarded, and identity-claiming headers are removed even if something set them.
 * Requests go through the gateway's own {@link SubgraphFetcher} (pooled keep-alive, timeouts)
 * instead of Apollo's default client.
 */
export class AuthForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  readonly #subgraph: string;
  readonly #client: SubgraphFetcher;

  constructor(options: AuthForwardingOptions) {
    super({ url: options.url });
    this.#subgraph = options.name ?? 'upstream';
    if (!options.url) throw new Error(`the supergraph gives the ${this.#subgraph} subgraph no routing URL`);
    if (!options.fetcher) defaultFetcher ??= createSubgraphFetcher();
    this.#client = options.fetcher ?? (defaultFetcher as SubgraphFetcher);
  }

  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    for (const name of SPOOFABLE_IDENTITY_HEADERS) headers.delete(name);
    headers.delete('authorization');
    if (!('authorization' in context)) return;
    headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
  }

  /** What RemoteGraphQLDataSource.process does (headers, willSendRequest, cache hints), minus its HTTP client. */
  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayResponse> {
    const { request } = options;
    const headers = new Headers();
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers.append(name, value);
    headers.set('content-type', 'application/json');
    request.http = { method: 'POST', url: this.url, headers };
    this.willSendRequest(options);
    if (!request.query) throw new Error('Missing query');
    const { http: _http, ...graphqlRequest } = request;
    const response = await this.#client.post({
      subgraph: this.#subgraph,
      url: this.url,
      headers: Object.fromEntries(headers),
      body: JSON.stringify(graphqlRequest),
    });
    const body = parse(response);
    if (response.status < 200 || response.status > 299) throw subgraphRefusal(response.status, body);
    if (typeof body !== 'object' || body === null) {
      throw new Error(
        `The ${this.#subgraph} subgraph answered a non-JSON body: ${String(body).slice(0, 200)}`,
      );
    }
    if ('incomingRequestContext' in options) {
      const policy = options.incomingRequestContext.overallCachePolicy;
      if (this.honorSubgraphCacheControlHeader && policy && 'restrict' in policy) {
        policy.restrict(cacheHint(response.cacheControl));
      }
    }
    return body as GatewayResponse;
  }
}

function parse(response: SubgraphResponse): unknown {
  const type = response.contentType;
  if (type?.startsWith('application/json') || type?.startsWith('application/graphql-response+json')) {
    try {
      return JSON.parse(response.body);
    } catch {
      return response.body;
    }
  }
  return response.body;
}

/**
 * A subgraph that refuses the whole request (401 token, 403 unregistered tenant, 400 input) answers
 * with a GraphQL error body: pass its message and code on, instead of a bare "403: Forbidden" with
 * the subgraph's URL and raw body in the extensions.
 */
export function subgraphRefusal(status: number, body: unknown): GraphQLError {
  const first = (body as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] } | undefined)
    ?.errors?.[0];
  if (typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
    return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
  }
  return new GraphQLError(`A subgraph answered HTTP ${status}`, {
    extensions: { code: status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_SERVER_ERROR' },
  });
}

/** The subgraph's Cache-Control as a cache hint, read as @apollo/gateway reads it. */
function cacheHint(header: string | undefined): { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } {
  const hint: { maxAge: number; scope?: 'PRIVATE' | 'PUBLIC' } = { maxAge: 0 };
  for (const directive of header?.split(',') ?? []) {
    const [name, value] = directive.trim().toLowerCase().split('=');
    if (name === 'max-age' && value && /^[0-9]+$/.test(value)) hint.maxAge = Number(value);
    if (name === 'private') hint.scope = 'PRIVATE';
    if (name === 'public') hint.scope = 'PUBLIC';
  }
  return hint;
}
