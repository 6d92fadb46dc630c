import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { metrics } from '@opentelemetry/api';
import { type DocumentNode, type GraphQLError, Kind, type OperationDefinitionNode } from 'graphql';
import type { Identity } from '../auth/identity.ts';
import type { TenantScope } from '../db/tenant-context.ts';
import type { Logger } from '../logger.ts';
import { type AuditEntry, type AuditOutcome, actorOf, recordAudit } from './audit-log.ts';
import { summarizeInput } from './redact.ts';

/** Audit records that could not be written, this process, since it started (also a metric). */
let unrecorded = 0;
const unrecordedCounter = metrics
  .getMeter('widgetdc.audit')
  .createCounter('widgetdc.audit.unrecorded', { description: 'audit records that could not be written' });

/** How many audit records this process could not write since it started. */
export function unrecordedAuditCount(): number {
  return unrecorded;
}

/**
 * Writes the record of a refused or failed attempt in a transaction of its own. It never throws:
 * the attempt is refused whatever happens here (fail closed: a refusal stays a refusal, and a
 * mutation's success record shares its transaction, so no change commits unaudited). A record that
 * cannot be written is logged at error level with its safe rendering and counted
 * (`widgetdc.audit.unrecorded`). Returns whether the record was written.
 */
export async function recordRefusal(
  scope: TenantScope,
  entry: AuditEntry,
  logger?: Logger,
): Promise<boolean> {
  try {
    await scope.run((em) => recordAudit(em, scope.tenantId, entry));
    return true;
  } catch (error) {
    unrecorded += 1;
    unrecordedCounter.add(1, { 'widgetdc.audit.outcome': entry.outcome });
    logger?.error('could not write audit record', {
      tenantId: scope.tenantId,
      action: entry.action,
      outcome: entry.outcome,
      actor: entry.actor.id,
      input: summarizeInput(entry.input),
      error: error instanceof Error ? error.message : String(error),
    });
    return false;
  }
}

/** The verified caller of a request and the tenant scope its records go to. */
export interface AuditedCaller {
  identity: Identity;
  scope: TenantScope;
  requestId: string;
}

/** The outcome an error stands for: a refusal of rights is `denied`, anything else `failed`. */
export function outcomeOf(codes: readonly unknown[]): AuditOutcome {
  return codes.includes('FORBIDDEN') ? 'denied' : 'failed';
}

/** A request refused before it became an operation (HTTP layer: body, shape, size). */
export interface RequestRefusal {
  status: number;
  code: string;
  message: string;
  /** What the caller sent, as far as it was read (summarised and redacted before it is stored). */
  body?: unknown;
}

/** The audit entry of a whole request a service refused (`<service>.<root fields>` or `<service>.request`). */
export function requestRefusalEntry(
  service: string,
  caller: AuditedCaller,
  refusal: { codes: string[]; operation?: string; input: Record<string, unknown> },
): AuditEntry {
  return {
    actor: actorOf(caller.identity),
    action: `${service}.${refusal.operation ?? 'request'}`,
    targetType: 'Operation',
    targetId: null,
    outcome: outcomeOf(refusal.codes),
    requestId: caller.requestId,
    input: { ...refusal.input, _error: refusal.codes.join(',') || 'BAD_REQUEST' },
  };
}

/** Records an HTTP-level refusal of a verified caller (see {@link RequestRefusal}). */
export async function recordRequestRefusal(
  service: string,
  caller: AuditedCaller,
  refusal: RequestRefusal,
  logger?: Logger,
): Promise<boolean> {
  const body = refusal.body;
  const input =
    typeof body === 'object' && body !== null && !Array.isArray(body)
      ? (body as Record<string, unknown>)
      : { body: typeof body === 'string' ? body : summarizeInput(body) };
  const entry = requestRefusalEntry(service, caller, { codes: [refusal.code], input });
  return recordRefusal(caller.scope, entry, logger);
}

/** Codes that are a protocol step, not a refusal (automatic persisted queries ask for the text first). */
const NOT_REFUSALS = new Set(['PERSISTED_QUERY_NOT_FOUND']);

/** Options of {@link useRefusalAudit}. */
export interface RefusalAuditOptions<TContext> {
  /** Prefix of the audit action (`agent`, `gateway`). */
  service: string;
  /** The verified caller of a request, or undefined when it has none to record against. */
  callerOf(context: TContext): AuditedCaller | undefined;
  logger?: Logger;
}

/**
 * Audits every request a service refuses as a whole — unparsable, invalid against the schema,
 * variables that do not coerce, operation limits — once per request, as `denied` or `failed`, with
 * the redacted variables. Errors of single fields (they carry a `path`) are the role guard's to
 * record, so nothing is recorded twice.
 */
export function useRefusalAudit<TContext extends BaseContext>(
  options: RefusalAuditOptions<TContext>,
): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors, document, request }) {
          const whole = errors.filter((e: GraphQLError) => !e.path);
          const codes = whole.map((e) => String(e.extensions?.code ?? 'INTERNAL_SERVER_ERROR'));
          if (whole.length === 0 || codes.every((c) => NOT_REFUSALS.has(c))) return;
          const caller = options.callerOf(contextValue);
          if (!caller) return;
          const entry = requestRefusalEntry(options.service, caller, {
            codes: [...new Set(codes)],
            operation: rootFieldsOf(document, request.operationName),
            input: {
              operationName: request.operationName ?? null,
              variables: request.variables ?? null,
              query: request.query ?? null,
            },
          });
          await recordRefusal(caller.scope, entry, options.logger);
        },
      };
    },
  };
}

/** `task` or `tasks+killSwitch`: the root fields of the operation to run, when the document parsed. */
function rootFieldsOf(document: DocumentNode | undefined, operationName: unknown): string | undefined {
  const operations = (document?.definitions ?? []).filter(
    (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION,
  );
  const operation =
    typeof operationName === 'string'
      ? operations.find((o) => o.name?.value === operationName)
      : operations.length === 1
        ? operations[0]
        : undefined;
  const names = operation?.selectionSet.selections
    .map((s) => (s.kind === Kind.FIELD ? s.name.value : undefined))
    .filter((n): n is string => n !== undefined);
  return names && names.length > 0 ? names.slice(0, 5).join('+') : undefined;
}
