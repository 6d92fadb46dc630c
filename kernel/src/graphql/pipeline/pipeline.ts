import {
  type DocumentNode,
  GraphQLError,
  type GraphQLFormattedError,
  type GraphQLSchema,
  getOperationAST,
  Kind,
  parse,
  validate,
} from 'graphql';
import { AppError } from '../../errors.ts';
import { toGraphQLError } from '../errors.ts';
import { tokenLimitRefusal } from '../limits/operation-limits.ts';
import type {
  Credentials,
  ExecutionEnd,
  OperationPlugin,
  ResolvedOperation,
  ResponseFacts,
  Transport,
} from './operation-plugin.ts';

/** A GraphQL request as a transport received it. */
export interface OperationRequest {
  query: string;
  operationName?: string | null;
  variables?: Readonly<Record<string, unknown>> | null;
}

/** The plugins of one service, run in order for every operation whatever its transport. */
export interface OperationPipeline<TContext> {
  readonly plugins: readonly OperationPlugin<TContext>[];
  /** The parser's token limit (the smallest any plugin asks for). */
  readonly maxTokens: number | undefined;
  /** Verifies the caller through the authenticating plugin. */
  authenticate(credentials: Credentials): Promise<TContext>;
  /** Runs every `onOperation`; refusals come back as GraphQL errors (AppErrors converted). */
  resolved(operation: ResolvedOperation<TContext>): Promise<void>;
  /** Runs every `onExecute`; the returned function ends them all. */
  executing(operation: ResolvedOperation<TContext>): ExecutionEnd;
  /** Whether any plugin watches field resolution (it costs a wrapper around every resolver). */
  readonly watchesFields: boolean;
  /** Runs every `onResolveField`. */
  resolvingField(operation: ResolvedOperation<TContext>): void;
  /** Lets every plugin see (and rewrite) errors about to reach the client. */
  errors(errors: readonly GraphQLError[]): void;
  /** Passes a response's formatted errors through every plugin's `onFormattedErrors`, in order. */
  formatted(errors: GraphQLFormattedError[], request: ResponseFacts): GraphQLFormattedError[];
  /**
   * Parse (token limit), validate against `schema`, resolve the operation and run `onOperation`: what a
   * transport without its own pipeline (graphql-ws) calls. Apollo Server does the first three itself.
   */
  prepare(
    schema: GraphQLSchema,
    request: OperationRequest,
    context: TContext,
    transport: Transport,
  ): Promise<ResolvedOperation<TContext> | readonly GraphQLError[]>;
}

/** Whether `prepare` refused the operation (its errors) rather than resolving it. */
export function isRefusal<TContext>(
  prepared: ResolvedOperation<TContext> | readonly GraphQLError[],
): prepared is readonly GraphQLError[] {
  return Array.isArray(prepared);
}

/** Builds a pipeline from plugins (order matters: authentication, limits, roles, tracing). */
export function createPipeline<TContext>(
  plugins: readonly OperationPlugin<TContext>[],
): OperationPipeline<TContext> {
  const authenticators = plugins.filter((p) => p.authenticate);
  if (authenticators.length > 1) {
    throw new Error(`pipeline: ${authenticators.map((p) => p.name).join(', ')} all authenticate; keep one`);
  }
  const tokenLimits = plugins.flatMap((p) => (p.maxTokens === undefined ? [] : [p.maxTokens]));
  const maxTokens = tokenLimits.length > 0 ? Math.min(...tokenLimits) : undefined;
  const pipeline: OperationPipeline<TContext> = {
    plugins,
    maxTokens,
    async authenticate(credentials) {
      const authenticator = authenticators[0];
      if (!authenticator?.authenticate) throw new Error('pipeline: no plugin authenticates callers');
      return authenticator.authenticate(credentials);
    },
    async resolved(operation) {
      for (const plugin of plugins) {
        try {
          await plugin.onOperation?.(operation);
        } catch (error) {
          throw error instanceof AppError ? toGraphQLError(error) : error;
        }
      }
    },
    executing(operation) {
      const ends = plugins.flatMap((p) => p.onExecute?.(operation) ?? []);
      return (errors) => {
        for (const end of ends.reverse()) end(errors);
      };
    },
    watchesFields: plugins.some((p) => p.onResolveField),
    resolvingField(operation) {
      for (const plugin of plugins) plugin.onResolveField?.(operation);
    },
    errors(errors) {
      for (const plugin of plugins) plugin.onErrors?.(errors);
    },
    formatted(errors, request) {
      return plugins.reduce((list, plugin) => plugin.onFormattedErrors?.(list, request) ?? list, errors);
    },
    async prepare(schema, request, context, transport) {
      let document: DocumentNode;
      try {
        document = parse(request.query, maxTokens === undefined ? {} : { maxTokens });
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const tooLarge = tokenLimitRefusal(message, request.query);
        return [tooLarge ?? new GraphQLError(message, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } })];
      }
      const invalid = validate(schema, document);
      if (invalid.length > 0) {
        return invalid.map(
          (e) =>
            new GraphQLError(e.message, {
              nodes: e.nodes,
              extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
            }),
        );
      }
      const operation = getOperationAST(document, request.operationName);
      if (!operation) return [unresolvedOperation(document, request.operationName ?? undefined)];
      const resolved = {
        schema,
        document,
        operation,
        variables: request.variables ?? {},
        context,
        transport,
      };
      try {
        await pipeline.resolved(resolved);
      } catch (error) {
        if (error instanceof GraphQLError) return [error];
        throw error;
      }
      return resolved;
    },
  };
  return pipeline;
}

/** Several operations and no (or a wrong) `operationName`: a client mistake, never an internal error. */
export function unresolvedOperation(document: DocumentNode, operationName: string | undefined): GraphQLError {
  const count = document.definitions.filter((d) => d.kind === Kind.OPERATION_DEFINITION).length;
  const message = operationName
    ? `The document has no operation named "${operationName}"`
    : count === 0
      ? 'The document holds no operation'
      : `The document holds ${count} operations; name the one to run with operationName`;
  return new GraphQLError(message, {
    extensions: { code: 'OPERATION_RESOLUTION_FAILURE', http: { status: 400 } },
  });
}
