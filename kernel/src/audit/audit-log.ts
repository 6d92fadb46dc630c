import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { trace } from '@opentelemetry/api';
import type { Identity } from '../auth/identity.ts';
import { fitText, summarizeInput } from './redact.ts';

/** What became of an audited attempt. */
export type AuditOutcome = 'success' | 'denied' | 'failed';

/** Who acted for whom, as the audit log records it. */
export interface AuditActor {
  kind: 'user' | 'service';
  id: string;
  name: string;
  /** The user a service acted for ("agent X on behalf of user Y"), as `name (id)`. */
  onBehalfOf?: { id: string; name: string };
}

/** One audit record to append. */
export interface AuditEntry {
  actor: AuditActor;
  action: string;
  targetType: string;
  targetId?: string | null;
  outcome: AuditOutcome;
  requestId?: string;
  /** Raw input; only its redacted summary is stored. */
  input?: unknown;
  /** The trace the record belongs to; the active span's when absent. */
  traceId?: string;
}

/** The actor a verified identity stands for. */
export function actorOf(identity: Identity, onBehalfOf?: AuditActor['onBehalfOf']): AuditActor {
  return {
    kind: identity.kind,
    id: identity.subjectId,
    name: identity.displayName,
    ...(onBehalfOf ? { onBehalfOf } : {}),
  };
}

/**
 * Appends one audit record in the caller's transaction (inside a tenant scope), so the record and
 * the change it describes commit or fail together. The database assigns the sequence number and
 * the hash chain; the application role cannot change or remove a record afterwards.
 */
export async function recordAudit(em: EntityManager, tenantId: string, entry: AuditEntry): Promise<string> {
  const [id] = await recordAudits(em, tenantId, [entry]);
  return id!;
}

/**
 * Appends several audit records, in order, with one statement in the caller's transaction (a
 * worker's batch of events). Each record's trace id is its entry's `traceId`, else the active span's.
 */
export async function recordAudits(
  em: EntityManager,
  tenantId: string,
  entries: readonly AuditEntry[],
): Promise<string[]> {
  if (entries.length === 0) return [];
  const active = trace.getActiveSpan()?.spanContext().traceId;
  const ids: string[] = [];
  const params: unknown[] = [];
  for (const entry of entries) {
    const id = randomUUID();
    ids.push(id);
    const obo = entry.actor.onBehalfOf;
    const traceId = entry.traceId ?? active;
    params.push(
      id,
      tenantId,
      entry.actor.kind,
      // Every text column is rendered safely too: a target id or a display name may hold anything.
      fitText(entry.actor.id, 200),
      fitText(entry.actor.name, 300),
      obo ? fitText(`${obo.name} (${obo.id})`, 300) : null,
      fitText(entry.action, 200),
      fitText(entry.targetType, 100),
      entry.targetId == null ? null : fitText(entry.targetId, 200),
      entry.outcome,
      entry.requestId == null ? null : fitText(entry.requestId, 64),
      traceId && !/^0+$/.test(traceId) ? traceId : null,
      entry.input === undefined ? null : JSON.stringify(summarizeInput(entry.input)),
    );
  }
  // VALUES rows keep their order, so the chain's sequence follows `entries`.
  await em.execute(
    `insert into audit.audit_events
       (id, tenant_id, actor_kind, actor_id, actor, on_behalf_of, action, target_type, target_id,
        outcome, request_id, trace_id, input_summary, at)
     values ${entries.map(() => ROW).join(', ')}`,
    params,
  );
  return ids;
}

const ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now())';
