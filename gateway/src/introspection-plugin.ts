import { type ApolloServerPlugin, type BaseContext, HeaderMap } from '@apollo/server';
import { execute } from 'graphql';
import { rootFieldNames } from './pipeline/root-fields.ts';

const INTROSPECTION_FIELDS = new Set(['__schema', '__type', '__typename']);

/**
 * Answers operations that select only introspection (`__schema`, `__type`) with graphql-js itself,
 * against the API schema Apollo validated them with. @apollo/gateway's executor rebuilds the
 * operation with its own introspection types, which lack newer members graphql-js's
 * `getIntrospectionQuery` asks for (`isOneOf`), and answered such valid queries with HTTP 500.
 * Introspection stays off where Apollo's `introspection: false` refuses it during validation.
 */
export function introspectionPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async responseForOperation({ schema, document, operation, request }) {
          if (operation.operation !== 'query') return null;
          const names = rootFieldNames(document, operation);
          if (!names.some((n) => n !== '__typename') || !names.every((n) => INTROSPECTION_FIELDS.has(n))) {
            return null;
          }
          const singleResult = await execute({
            schema,
            document,
            ...(request.operationName ? { operationName: request.operationName } : {}),
            variableValues: request.variables ?? {},
          });
          return {
            http: { headers: new HeaderMap(), status: undefined },
            body: { kind: 'single', singleResult },
          };
        },
      };
    },
  };
}
