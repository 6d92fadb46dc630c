/** A minimal GraphQL-over-HTTP client for the evaluation: one POST per operation, errors thrown with their codes. */

/** What went wrong with an operation, as the server said it. */
export class GraphQLRequestError extends Error {
  readonly codes: readonly string[];
  constructor(message: string, codes: readonly string[]) {
    super(message);
    this.name = 'GraphQLRequestError';
    this.codes = codes;
  }
}

/** Sends `query` with `variables` and a bearer token; returns `data` or throws the errors. */
export async function graphql<T>(
  url: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    data?: T;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  if (body.errors?.length || !body.data) {
    const errors = body.errors ?? [{ message: `HTTP ${response.status} without data` }];
    throw new GraphQLRequestError(
      errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '),
      errors.map((e) => e.extensions?.code ?? 'ERROR'),
    );
  }
  return body.data;
}
