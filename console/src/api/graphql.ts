// The one way the console and the widget talk to the graph: queries and mutations over HTTP, live
// updates over graphql-ws on the same path. Errors keep the graph's code so pages can say what to do.
import { type Client, createClient } from 'graphql-ws/client';

/** Returns a current access token (a bearer token for the gateway). */
export type TokenProvider = () => Promise<string>;

/** A failed operation: the graph's first error message and its `extensions.code`. */
export class GraphQLFailure extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** What to do about a failure, in words a person can act on. */
export function adviceFor(error: unknown): string {
  const code = error instanceof GraphQLFailure ? error.code : 'NETWORK';
  switch (code) {
    case 'UNAUTHENTICATED':
      return 'Your sign-in has expired or was refused: sign out and sign in again.';
    case 'FORBIDDEN':
      return 'Your roles do not allow this: ask an Admin for the role named above.';
    case 'BAD_USER_INPUT':
    case 'BAD_REQUEST':
      return 'Correct the input named above and try again.';
    case 'NETWORK':
      return 'The gateway did not answer: check that the platform is running, then retry.';
    default:
      return 'Retry; if it keeps failing, give the request id from the audit log to an operator.';
  }
}

/** A client for one gateway endpoint (`…/graphql`). */
export interface GraphClient {
  request<T>(query: string, variables?: Record<string, unknown>): Promise<T>;
  /** Subscribes; returns the unsubscribe function. */
  subscribe<T>(query: string, variables: Record<string, unknown>, next: (data: T) => void): () => void;
  close(): void;
}

/** A client of `endpoint` whose every call carries `Authorization: Bearer <token()>`. */
export function graphClient(endpoint: string, token: TokenProvider): GraphClient {
  const url = new URL(endpoint, location.href);
  let ws: Client | undefined;
  const live = () => {
    ws ??= createClient({
      url: url.href.replace(/^http/, 'ws'),
      connectionParams: async () => ({ authorization: `Bearer ${await token()}` }),
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
    });
    return ws;
  };
  return {
    async request<T>(query: string, variables: Record<string, unknown> = {}) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
          body: JSON.stringify({ query, variables }),
        });
      } catch {
        throw new GraphQLFailure('The gateway could not be reached.', 'NETWORK');
      }
      const body = (await response.json().catch(() => ({}))) as {
        data?: T;
        errors?: { message: string; extensions?: { code?: string } }[];
      };
      const first = body.errors?.[0];
      if (first) throw new GraphQLFailure(first.message, first.extensions?.code ?? 'INTERNAL_SERVER_ERROR');
      if (!body.data) throw new GraphQLFailure(`The gateway answered HTTP ${response.status}.`, 'NETWORK');
      return body.data;
    },
    subscribe<T>(query: string, variables: Record<string, unknown>, next: (data: T) => void) {
      return live().subscribe<T>(
        { query, variables },
        {
          next: (message) => message.data && next(message.data as T),
          error: () => {},
          complete: () => {},
        },
      );
    },
    close() {
      void ws?.dispose();
      ws = undefined;
    },
  };
}
