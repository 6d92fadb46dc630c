import { context, trace } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { type GraphQLError, validate } from 'graphql';
import type { Logger } from '../../logger.ts';
import type { OperationPlugin, ResolvedOperation } from '../pipeline/operation-plugin.ts';
import { aliasRule } from './alias-rule.ts';
import { checkCost } from './cost.ts';
import { depthRule } from './depth-rule.ts';
import { directiveRule } from './directive-rule.ts';
import { checkEntities } from './entities.ts';
import { limitError, type OperationLimits } from './operation-limits.ts';

/** Name of the span of the depth, alias and directive checks. */
export const LIMITS_SPAN = 'graphql.limits';

/** Options of {@link useOperationLimits}. */
export interface OperationLimitsPluginOptions {
  limits: OperationLimits;
  logger: Logger;
}

/** Checks that every limit is a positive whole number; a start-up error names the one that is not. */
export function assertValidLimits(limits: OperationLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1)
      throw new Error(`operation limits: ${name} must be a positive whole number`);
  }
}

/**
 * The operation limits of every GraphQL service, gateway and subgraphs alike (one implementation):
 * the token limit is the parser's own (`maxTokens`); depth, aliases and directives are graphql-armor's
 * rules; cost (times `first`, lists without it times `listSize`) and `_entities` representations need
 * the request's variables. All run once the operation is validated and resolved, before it is planned
 * or executed, and refuse it with HTTP 400 and a code per limit (the first limit broken). While a
 * service's own resolvers run, every field counts against `maxResolvedFields` (RESULT_TOO_LARGE), so
 * lists longer than the estimate assumed cannot multiply the work behind its back.
 */
export function useOperationLimits<TContext>(
  options: OperationLimitsPluginOptions,
): OperationPlugin<TContext> {
  const { limits } = options;
  assertValidLimits(limits);
  const logger = options.logger.child('limits');
  const rules = [
    depthRule(limits.maxDepth),
    aliasRule(limits.maxAliases),
    directiveRule(limits.maxDirectives),
  ];
  const tracer = trace.getTracer('widgetdc.graphql');
  const refusalOf = ({ schema, document, operation, variables }: ResolvedOperation<TContext>) => {
    // One span of its own: graphql-js's validate here runs only the limit rules, and the GraphQL
    // instrumentation would report it as a second `graphql.validate` of the same operation.
    const [broken] = tracer.startActiveSpan(LIMITS_SPAN, (span) => {
      try {
        return context.with(suppressTracing(context.active()), () => validate(schema, document, rules));
      } finally {
        span.end();
      }
    });
    return (
      broken ??
      checkEntities(document, operation, variables, limits.maxEntities) ??
      checkCost(schema, document, operation, variables, limits)
    );
  };
  const resolvedFields = new WeakMap<ResolvedOperation<TContext>, number>();
  return {
    name: 'operation-limits',
    maxTokens: limits.maxTokens,
    onResolveField(resolved) {
      const count = (resolvedFields.get(resolved) ?? 0) + 1;
      resolvedFields.set(resolved, count);
      if (count <= limits.maxResolvedFields) return;
      if (count === limits.maxResolvedFields + 1)
        logger.info('execution stopped', { code: 'RESULT_TOO_LARGE' });
      throw limitError(
        'RESULT_TOO_LARGE',
        'resolved-field',
        limits.maxResolvedFields,
        limits.maxResolvedFields,
        'Lists without `first` hold more items than the estimate assumed: ask for fewer items or less nesting.',
      );
    },
    onOperation(resolved) {
      const refusal: GraphQLError | undefined = refusalOf(resolved);
      if (!refusal) return;
      logger.info('operation refused', {
        ...refusal.extensions,
        http: undefined,
        transport: resolved.transport,
        operationName: resolved.operation.name?.value,
      });
      throw refusal;
    },
  };
}
