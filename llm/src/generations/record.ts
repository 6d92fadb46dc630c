// What one model call leaves behind (observability.generations, ADR 0037): who it ran for, what it
// was asked and answered (redacted), tokens, cost, latency and how it ended.
import type { Identity } from '#kernel/auth/identity.ts';

/** Who a call ran as: a person, an agent acting for its task's owner, or a service on its own. */
export type GenerationActorKind = 'USER' | 'AGENT' | 'SERVICE';

/** `gen_ai.operation.name` of a recorded call. */
export type GenerationOperation = 'chat' | 'embeddings';

/** How a recorded call ended. */
export type GenerationStatus = 'SUCCEEDED' | 'FAILED';

/** The actor of a call and the user it ran for (the task owner for an agent, the uploader for ingestion). */
export interface GenerationActor {
  readonly kind: GenerationActorKind;
  readonly userId?: string | null;
  readonly userName?: string | null;
}

/** The prompt template a call was rendered from (filled by the prompts module when it is used). */
export interface GenerationPrompt {
  readonly name: string;
  readonly version: number;
  /** Template variables (stored redacted), so a replay can render another version. */
  readonly variables?: Readonly<Record<string, unknown>>;
  /** How many leading messages of the input came from the template. */
  readonly messages?: number;
}

/** What a caller tells the recorder about a call: whose it is and why it is made. */
export interface GenerationCaller {
  readonly tenantId: string;
  readonly actor: GenerationActor;
  /** The agent task (Langfuse session) the call belongs to. */
  readonly taskId?: string | null;
  /** `answer`, `planner`, `ingest`, `search`, `replay`, … */
  readonly purpose: string;
  readonly prompt?: GenerationPrompt;
  /** The generation this call replays. */
  readonly replayOf?: string | null;
}

/** One stored generation, as written (and as the audit subgraph reads it back). */
export interface GenerationRecord {
  readonly id: string;
  readonly tenantId: string;
  readonly createdAt: Date;
  readonly traceId: string | null;
  readonly spanId: string | null;
  readonly operation: GenerationOperation;
  readonly purpose: string;
  readonly actorKind: GenerationActorKind;
  readonly userId: string | null;
  readonly userName: string | null;
  readonly taskId: string | null;
  readonly provider: string;
  readonly model: string;
  readonly responseModel: string | null;
  readonly promptName: string | null;
  readonly promptVersion: number | null;
  readonly promptVariables: unknown;
  readonly promptMessages: number | null;
  /** `{ messages: [...] }` for chat, `{ count, inputs: [...] }` for embeddings; redacted. */
  readonly input: unknown;
  /** Redacted. */
  readonly output: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly totalTokens: number;
  readonly costUsd: number;
  readonly latencyMs: number;
  readonly ttftMs: number | null;
  readonly status: GenerationStatus;
  readonly errorType: string | null;
  readonly errorMessage: string | null;
  readonly replayOf: string | null;
}

/**
 * The actor a verified identity stands for: a person is USER (their object id and name), an app-only
 * token is SERVICE with no user. Never taken from arguments.
 */
export function actorOfIdentity(identity: Identity): GenerationActor {
  return identity.kind === 'user'
    ? { kind: 'USER', userId: identity.subjectId, userName: identity.displayName }
    : { kind: 'SERVICE' };
}

/** The caller of a request's model call: the verified identity's tenant and actor. */
export function callerOfIdentity(
  identity: Identity,
  purpose: string,
  extra: Pick<GenerationCaller, 'prompt' | 'replayOf' | 'taskId'> = {},
): GenerationCaller {
  return { tenantId: identity.tenantId, actor: actorOfIdentity(identity), purpose, ...extra };
}
