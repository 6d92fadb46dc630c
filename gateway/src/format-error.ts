import { createFormatError } from '#kernel/graphql/errors.ts';
import { formatLimitErrors } from '#kernel/graphql/limits/format-limit-errors.ts';
import type { Logger } from '#kernel/logger.ts';

/**
 * The gateway's `formatError`, the same as every subgraph's: operation-limit refusals keep their code
 * and figures (QUERY_TOO_LARGE with the exact count), everything else as every service.
 */
export function createGatewayFormatError(logger: Logger) {
  return formatLimitErrors(createFormatError(logger));
}
