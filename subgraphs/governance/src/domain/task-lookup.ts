import { UnavailableError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';

/**
 * Whether a task exists in the caller's tenant. Tasks belong to the agent domain: governance never
 * reads agent's tables, it asks the agent subgraph through the graph, as the caller.
 */
export interface TaskLookup {
  exists(ctx: RequestContext, taskId: string): Promise<boolean>;
}

/** A GraphQL response as a subgraph answers it. */
export interface GraphResponse {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** Sends one operation to the agent subgraph on behalf of the request's caller. */
export type GraphRequest = (
  ctx: RequestContext,
  query: string,
  variables: Record<string, unknown>,
) => Promise<GraphResponse>;

/** How long the agent subgraph may take to answer before the request fails as unavailable. */
export const TASK_LOOKUP_TIMEOUT_MS = 5_000;

const ENTITIES = 'query ($r: [_Any!]!) { _entities(representations: $r) { ... on Task { id } } }';

/**
 * Looks tasks up with a federation `_entities` query for `Task`, so the agent subgraph applies its
 * own roles and row-level security to the caller.
 */
export function graphTaskLookup(request: GraphRequest): TaskLookup {
  return {
    async exists(ctx, taskId) {
      const body = await request(ctx, ENTITIES, { r: [{ __typename: 'Task', id: taskId }] });
      if (body.errors?.length) {
        // A caller who may not read tasks cannot learn whether one exists.
        if (body.errors.some((e) => e.extensions?.code === 'FORBIDDEN')) return false;
        throw new UnavailableError('The agent service could not say whether the task exists; try again');
      }
      const entities = body.data?._entities as ({ id?: string } | null)[] | undefined;
      return Boolean(entities?.[0]?.id);
    },
  };
}

/** {@link GraphRequest} over HTTP to `url`, forwarding the caller's own token and request id. */
export function httpGraphRequest(url: string, fetchImpl: typeof fetch = fetch): GraphRequest {
  return async (ctx, query, variables) => {
    if (!ctx.authorization)
      throw new Error('a request to another subgraph needs the caller’s token to forward');
    try {
      const res = await fetchImpl(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: ctx.authorization,
          'x-request-id': ctx.requestId,
        },
        body: JSON.stringify({ query, variables }),
        signal: AbortSignal.timeout(TASK_LOOKUP_TIMEOUT_MS),
      });
      return (await res.json()) as GraphResponse;
    } catch (error) {
      throw new UnavailableError('The agent service did not answer; try again', {}, { cause: error });
    }
  };
}
