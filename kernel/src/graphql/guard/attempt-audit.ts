import { type GraphQLResolveInfo, getNamedType } from 'graphql';
import { type AuditEntry, type AuditOutcome, actorOf } from '../../audit/audit-log.ts';
import { recordRefusal } from '../../audit/refusals.ts';
import type { Logger } from '../../logger.ts';
import type { RequestContext } from '../context.ts';

/** Where an attempt is recorded and who hears when the record cannot be written. */
export interface AttemptAuditOptions {
  logger?: Logger;
}

/** Records a denied or failed attempt in its own transaction; a record that cannot be written is logged and counted. */
export async function auditAttempt(
  ctx: RequestContext,
  action: string,
  info: GraphQLResolveInfo,
  args: Record<string, unknown>,
  outcome: AuditOutcome,
  options: AttemptAuditOptions,
  targetId: string | null = targetIdOf(undefined, args),
  targetType = targetTypeOf(info),
): Promise<void> {
  // Never throws; a record that cannot be written is logged and counted (kernel/src/audit/refusals.ts).
  const target = { type: targetType, id: targetId };
  await recordRefusal(ctx.db, entryOf(ctx, action, outcome, args, target), options.logger);
}

/** The audit record of an attempt by the request's caller. */
export function entryOf(
  ctx: RequestContext,
  action: string,
  outcome: AuditOutcome,
  args: Record<string, unknown>,
  target: { type: string; id: string | null },
): AuditEntry {
  return {
    actor: actorOf(ctx.identity),
    action,
    targetType: target.type,
    targetId: target.id,
    outcome,
    requestId: ctx.requestId,
    input: args,
  };
}

/** The type an operation acts on: its field's named return type. */
export function targetTypeOf(info: GraphQLResolveInfo): string {
  return getNamedType(info.returnType).name;
}

/** The id an operation acts on: the result's, else the `id` (or `input.id`) argument. */
export function targetIdOf(result: unknown, args: Record<string, unknown>): string | null {
  const fromResult = (result as { id?: unknown } | null | undefined)?.id;
  if (typeof fromResult === 'string') return fromResult;
  const input = args.input as { id?: unknown } | undefined;
  const candidate = args.id ?? input?.id;
  // Cut (and made storable) by recordAudit, which marks the cut with the original length.
  return typeof candidate === 'string' ? candidate : null;
}
