import { type GraphQLDataSourceProcessOptions, RemoteGraphQLDataSource } from '@apollo/gateway';
import { GraphQLError } from 'graphql';
import type { GatewayContext } from './context.ts';

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

/**
 * Sends each subgraph request with the caller's own token (zero trust: every subgraph verifies
 * it again) and the request id, so logs across services line up. Nothing else of the caller's
 * request is forwarded, and identity-claiming headers are removed even if something set them.
 */
export class AuthForwardingDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const headers = request.http?.headers;
    if (!headers) return;
    for (const name of SPOOFABLE_IDENTITY_HEADERS) headers.delete(name);
    headers.delete('authorization');
    if (!('authorization' in context)) return;
    headers.set('authorization', context.authorization);
    headers.set('x-request-id', context.requestId);
  }

  /**
   * A subgraph that refuses the whole request (401 token, 403 unregistered tenant, 400 input) answers
   * with a GraphQL error body: pass its message and code on, instead of Apollo's bare "403: Forbidden"
   * with the subgraph's URL and raw body in the extensions.
   */
  override async errorFromResponse(response: Response): Promise<GraphQLError> {
    const body = (await this.parseBody(response).catch(() => undefined)) as
      | { errors?: { message?: unknown; extensions?: { code?: unknown } }[] }
      | undefined;
    const first = body?.errors?.[0];
    if (typeof first?.message === 'string' && typeof first.extensions?.code === 'string') {
      return new GraphQLError(first.message, { extensions: { code: first.extensions.code } });
    }
    return new GraphQLError(`A subgraph answered HTTP ${response.status}`, {
      extensions: { code: response.status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL_SERVER_ERROR' },
    });
  }
}
