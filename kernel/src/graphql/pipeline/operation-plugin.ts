import type {
  DocumentNode,
  GraphQLError,
  GraphQLFormattedError,
  GraphQLSchema,
  OperationDefinitionNode,
} from 'graphql';

/** How an operation reached the service. */
export type Transport = 'http' | 'websocket';

/** What a caller presents: the `Authorization` value (HTTP header or graphql-ws `connection_init`). */
export interface Credentials {
  authorization: string | undefined;
  requestId: string;
}

/** An operation once parsed, validated and resolved, before it is planned or executed. */
export interface ResolvedOperation<TContext> {
  schema: GraphQLSchema;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  variables: Readonly<Record<string, unknown>>;
  context: TContext;
  transport: Transport;
}

/** Called when an operation's execution (or a subscription's set-up) ends, with its errors. */
export type ExecutionEnd = (errors: readonly GraphQLError[] | undefined) => void;

/**
 * One step of the operation pipeline, in Hive Gateway's shape: HTTP and WebSocket operations pass the
 * same plugins, so a limit or a check is written once. Every hook is optional.
 */
export interface OperationPlugin<TContext> {
  /** For logs and errors. */
  readonly name: string;
  /** Token limit of the parser; the smallest of all plugins applies. */
  readonly maxTokens?: number;
  /** Verifies the caller and builds the context; exactly one plugin of a pipeline that authenticates has it. */
  authenticate?(credentials: Credentials): Promise<TContext>;
  /** After validation, before planning or execution: throw a GraphQLError or an AppError to refuse. */
  onOperation?(operation: ResolvedOperation<TContext>): void | Promise<void>;
  /** Execution (a subscription's set-up) starts; the returned function runs when it ends. */
  onExecute?(operation: ResolvedOperation<TContext>): ExecutionEnd | undefined;
  /** A field of this service's own schema is about to resolve (subgraphs: every field); throw to stop it. */
  onResolveField?(operation: ResolvedOperation<TContext>): void;
  /** Errors about to reach the client (validation, execution); may rewrite their messages. */
  onErrors?(errors: readonly GraphQLError[]): void;
  /**
   * Every error of a response as the client will read it (formatted), whatever produced it: the
   * transport's own refusals, authentication, validation, execution. Returns the errors to send.
   */
  onFormattedErrors?(errors: GraphQLFormattedError[], request: ResponseFacts): GraphQLFormattedError[];
}

/** What is known of the request a response answers, even when it was refused before any context. */
export interface ResponseFacts {
  requestId: string;
}
