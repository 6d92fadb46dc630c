import type { IncomingMessage } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import type { MikroORM } from '@mikro-orm/postgresql';
import {
  type AuditedCaller,
  type RequestRefusal,
  recordRequestRefusal,
  useRefusalAudit,
} from '#kernel/audit/refusals.ts';
import { tenantScope } from '#kernel/db/tenant-context.ts';
import type { Logger } from '#kernel/logger.ts';
import type { GatewayContext } from './context.ts';

/** The audit prefix of the gateway's own refusals. */
export const GATEWAY_AUDIT_SERVICE = 'gateway';

interface Options {
  auditOrm?: MikroORM;
  logger: Logger;
}

const callerOf =
  (orm: MikroORM) =>
  (ctx: GatewayContext): AuditedCaller => ({
    identity: ctx.identity,
    scope: tenantScope(orm, ctx.identity.tenantId),
    requestId: ctx.requestId,
  });

/**
 * The plugin that audits the gateway's whole-request refusals (operation limits, validation against
 * the supergraph, variables): none when the gateway has no database to write to.
 */
export function refusalAudit(options: Options): ApolloServerPlugin<GatewayContext>[] {
  if (!options.auditOrm) return [];
  return [
    useRefusalAudit<GatewayContext>({
      service: GATEWAY_AUDIT_SERVICE,
      callerOf: callerOf(options.auditOrm),
      logger: options.logger.child('audit'),
    }),
  ];
}

/** The HTTP server's hook for requests it refuses itself, when a verified caller sent them. */
export function auditHttpRefusal(
  options: Options,
  context: (req: IncomingMessage) => Promise<GatewayContext>,
): ((req: IncomingMessage, refusal: RequestRefusal) => Promise<void>) | undefined {
  const orm = options.auditOrm;
  if (!orm) return undefined;
  const logger = options.logger.child('audit');
  return async (req, refusal) => {
    const ctx = await context(req).catch(() => undefined);
    if (ctx) await recordRequestRefusal(GATEWAY_AUDIT_SERVICE, callerOf(orm)(ctx), refusal, logger);
  };
}
