import type { TokenVerifier } from '#kernel/auth/token-verifier.ts';
import type { OperationLimits } from '#kernel/graphql/limits/operation-limits.ts';
import { useOperationLimits } from '#kernel/graphql/limits/use-operation-limits.ts';
import type { OperationPlugin } from '#kernel/graphql/pipeline/operation-plugin.ts';
import { createPipeline, type OperationPipeline } from '#kernel/graphql/pipeline/pipeline.ts';
import { useHiddenSuggestions } from '#kernel/graphql/pipeline/use-hidden-suggestions.ts';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from '../context.ts';
import type { SubscriptionSchema } from '../subscriptions/subscription-schema.ts';
import { useAuthentication } from './use-authentication.ts';
import { useRequestIdInErrors } from './use-request-id.ts';
import { useRoleChecks } from './use-role-checks.ts';
import { useSubscriptionsOnlyOverWebSocket } from './use-subscriptions-only.ts';
import { useTracing } from './use-tracing.ts';

/** Options of {@link createGatewayPipeline}. */
export interface GatewayPipelineOptions {
  verifier: TokenVerifier;
  limits: OperationLimits;
  /** The schema the gateway serves itself over WebSocket, with its roles. */
  subscriptions: SubscriptionSchema;
  /** Where HTTP operations go (named in the WebSocket refusal of queries). */
  path: string;
  /** Production mode: no "Did you mean …" suggestions. */
  production: boolean;
  logger: Logger;
}

/**
 * The one chain every gateway operation passes, HTTP queries and mutations and WebSocket
 * subscriptions alike: authentication, transport rules, the operation limits (the subgraphs' own
 * implementation), role checks, production error hygiene, tracing, the request id in every error.
 */
export function createGatewayPipeline(options: GatewayPipelineOptions): OperationPipeline<GatewayContext> {
  const plugins: OperationPlugin<GatewayContext>[] = [
    useAuthentication({ verifier: options.verifier }),
    useSubscriptionsOnlyOverWebSocket(options.path),
    useOperationLimits({ limits: options.limits, logger: options.logger }),
    useRoleChecks({ roles: options.subscriptions.roles }),
  ];
  if (options.production) plugins.push(useHiddenSuggestions());
  plugins.push(useTracing(), useRequestIdInErrors());
  return createPipeline(plugins);
}
