// oidc-provider ships no type declarations; this covers only what the test provider uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  /** The request context handed to configuration callbacks. */
  export interface ProviderContext {
    oidc: { params?: Record<string, unknown> };
  }

  /** An issued token, as seen by `extraTokenClaims`. */
  export interface IssuedToken {
    clientId?: string;
  }

  /** The subset of oidc-provider's configuration used here. */
  export interface Configuration {
    clients?: Record<string, unknown>[];
    jwks?: { keys: Record<string, unknown>[] };
    ttl?: Record<string, number>;
    features?: {
      devInteractions?: { enabled: boolean };
      clientCredentials?: { enabled: boolean };
      resourceIndicators?: {
        enabled: boolean;
        defaultResource?: (
          ctx: ProviderContext,
          client: unknown,
          oneOf?: string[],
        ) => Promise<string | undefined>;
        getResourceServerInfo?: (
          ctx: ProviderContext,
          resource: string,
          client: unknown,
        ) => Promise<Record<string, unknown>>;
        useGrantedResource?: (ctx: ProviderContext, model: unknown) => Promise<boolean>;
      };
    };
    extraTokenClaims?: (
      ctx: ProviderContext,
      token: IssuedToken,
    ) => Promise<Record<string, unknown> | undefined>;
  }

  /** oidc-provider's OpenID provider. */
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration);
    on(event: string, listener: (...args: unknown[]) => void): this;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
  }

  /** oidc-provider's OAuth error classes. */
  export const errors: { InvalidTarget: new (description?: string) => Error };
}
