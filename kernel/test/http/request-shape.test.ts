import { createHash } from 'node:crypto';
import { getRequestOf, requestShapeProblem } from '#kernel/http/request-shape.ts';

const query = '{ __typename }';
const sha = createHash('sha256').update(query).digest('hex');

describe('requestShapeProblem', () => {
  it('accepts a plain request and a well-formed persisted query', () => {
    expect(requestShapeProblem({ query })).toBeUndefined();
    expect(
      requestShapeProblem({ query, variables: null, operationName: null, extensions: {} }),
    ).toBeUndefined();
    expect(
      requestShapeProblem({ extensions: { persistedQuery: { version: 1, sha256Hash: sha } } }),
    ).toBeUndefined();
    expect(
      requestShapeProblem({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha } } }),
    ).toBeUndefined();
  });

  it.each([
    ['a batch', [{ query }], 'body', /batching is not accepted/],
    ['a string body', 'query', 'body', /must be a JSON object .*got string/],
    ['null', null, 'body', /got null/],
    ['no query', {}, 'query', /holds no query/],
    ['a numeric query', { query: 5 }, 'query', /query must be a string/],
    [
      'a numeric operationName',
      { query, operationName: 5 },
      'operationName',
      /operationName must be a string/,
    ],
    ['an array operationName', { query, operationName: ['A'] }, 'operationName', /got an array/],
    [
      'string variables',
      { query, variables: '{}' },
      'variables',
      /variables must be a JSON object \(got string\)/,
    ],
    ['array extensions', { query, extensions: [] }, 'extensions', /extensions must be a JSON object/],
    [
      'a string persistedQuery',
      { query, extensions: { persistedQuery: 'x' } },
      'extensions.persistedQuery',
      /must be an object/,
    ],
    [
      'version 2',
      { query, extensions: { persistedQuery: { version: 2, sha256Hash: sha } } },
      'extensions.persistedQuery.version',
      /must be 1 \(got 2\)/,
    ],
    [
      'a numeric hash',
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 1 } } },
      'extensions.persistedQuery.sha256Hash',
      /64 hexadecimal digits/,
    ],
    [
      'a hash of another query',
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: 'a'.repeat(64) } } },
      'extensions.persistedQuery.sha256Hash',
      /not the SHA-256 of the query/,
    ],
  ])('refuses %s, naming the member', (_what, request, field, message) => {
    const problem = requestShapeProblem(request);
    expect(problem?.field).toBe(field);
    expect(problem?.message).toMatch(message);
  });
});

describe('getRequestOf', () => {
  it('parses the JSON members of a GET and names the one that does not parse', () => {
    expect(getRequestOf(`?query=${encodeURIComponent(query)}&variables=%7B%7D`)).toEqual({
      request: { query, variables: {} },
    });
    expect(getRequestOf('?query=x&extensions=%5B')).toEqual({
      problem: { field: 'extensions', message: 'extensions must be URL-encoded JSON (it does not parse)' },
    });
  });
});
