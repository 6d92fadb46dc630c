import type { AuditEvent } from './audit-event.entity.ts';

/** One audit event as a JSON Lines record: every stored field, including the chain hashes. */
export function toJsonLine(event: AuditEvent): string {
  return JSON.stringify({
    id: event.id,
    tenantId: event.tenantId,
    sequence: event.seq,
    at: event.at.toISOString(),
    actorKind: event.actorKind,
    actorId: event.actorId,
    actor: event.actor,
    onBehalfOf: event.onBehalfOf ?? null,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId ?? null,
    outcome: event.outcome,
    requestId: event.requestId ?? null,
    traceId: event.traceId ?? null,
    inputSummary: event.inputSummary ?? null,
    previousHash: event.prevHash,
    hash: event.hash,
  });
}
