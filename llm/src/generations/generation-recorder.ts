// Every model call recorded (ADR 0037): the budget is checked before it, and afterwards one row of
// observability.generations (with the month's usage counter, in the same statement) is written in
// the caller's tenant, synchronously, whether the call succeeded or failed. Its span carries the
// generation id; the record carries the trace and span ids; metrics follow the GenAI conventions.
import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { context, trace } from '@opentelemetry/api';
import { BudgetExceededError } from '#kernel/errors.ts';
import type { GenerationsConfig } from '../config.ts';
import { LlmError } from '../errors.ts';
import { BudgetGuard } from './budget-guard.ts';
import { type GenerationSlot, withGenerationSlot } from './generation-context.ts';
import { recordGenerationMetrics } from './generation-metrics.ts';
import { insertGeneration } from './generation-store.ts';
import { PriceTable } from './prices.ts';
import type { GenerationCaller, GenerationOperation, GenerationRecord } from './record.ts';
import { RedactionPolicy } from './redaction.ts';

/** Where records are written: a tenant-bound scope whose `run` is one transaction (`TenantScope`). */
export interface GenerationScope {
  readonly tenantId: string;
  run<T>(work: (em: EntityManager) => Promise<T>): Promise<T>;
}

/** A scope that writes in a transaction already open in the tenant (a worker's event transaction). */
export function scopeOfTransaction(em: EntityManager, tenantId: string): GenerationScope {
  return { tenantId, run: (work) => work(em) };
}

/** What a call is, before it runs. */
export interface ModelCall {
  readonly caller: GenerationCaller;
  readonly operation: GenerationOperation;
  /** `gen_ai.provider.name`: `openai`, `azure.ai.openai`, `widgetdc.extractive`, … */
  readonly provider: string;
  /** The model asked for, as the provider names it. */
  readonly model: string;
  /** What the model is given (stored redacted). */
  readonly input: unknown;
  /** Input tokens expected, checked against the budgets before the call. */
  readonly estimatedTokens: number;
}

/** What a successful call produced. */
export interface CallOutcome {
  readonly responseModel?: string | null;
  readonly output?: string | null;
  readonly inputTokens: number;
  readonly outputTokens: number;
}

/** Handed to the call while it runs. */
export interface GenerationHandle {
  /** The record's id (also on the call's span). */
  readonly id: string;
  /** Marks the first streamed token (time to first token). */
  firstToken(): void;
}

/** Options of {@link GenerationRecorder}. */
export interface GenerationRecorderOptions {
  redaction?: RedactionPolicy;
  prices?: PriceTable;
  budgets?: BudgetGuard;
  /** False (`LLM_GENERATIONS=off`): calls run unrecorded and unbudgeted. Default true. */
  record?: boolean;
  /** Hears a record of a failed call that could not be written (the call's own error is what the caller sees). */
  onRecordError?: (error: unknown) => void;
}

/** Checks budgets before model calls and records each call after it. */
export class GenerationRecorder {
  readonly redaction: RedactionPolicy;
  readonly prices: PriceTable;
  /** Whether calls are recorded and budgets enforced. */
  readonly recording: boolean;
  readonly #budgets: BudgetGuard;
  readonly #onRecordError: (error: unknown) => void;

  constructor(options: GenerationRecorderOptions = {}) {
    this.redaction = options.redaction ?? new RedactionPolicy();
    this.prices = options.prices ?? new PriceTable();
    this.#budgets = options.budgets ?? new BudgetGuard();
    this.recording = options.record ?? true;
    this.#onRecordError = options.onRecordError ?? (() => {});
  }

  /**
   * Runs `run` as the model call `call` describes: refused with BUDGET_EXCEEDED (nothing recorded,
   * nothing sent) when a budget of the caller's tenant or user would be passed; otherwise recorded
   * in `scope` as SUCCEEDED (with `outcome(result)`) or FAILED (with the error), and its error rethrown.
   */
  async observe<T>(
    scope: GenerationScope,
    call: ModelCall,
    run: (handle: GenerationHandle) => Promise<T>,
    outcome: (result: T) => CallOutcome,
  ): Promise<T> {
    const { caller } = call;
    if (!this.recording) return run({ id: randomUUID(), firstToken: () => {} });
    if (scope.tenantId.toLowerCase() !== caller.tenantId.toLowerCase()) {
      throw new Error('a generation must be recorded in the tenant of its caller');
    }
    const userId = caller.actor.userId ?? null;
    await scope.run((em) => this.#budgets.check(em, caller.tenantId, userId, call.estimatedTokens));
    const id = randomUUID();
    const slot: GenerationSlot = { id, redaction: this.redaction };
    const createdAt = new Date();
    const started = performance.now();
    let ttft: number | null = null;
    const handle: GenerationHandle = {
      id,
      firstToken: () => {
        ttft ??= performance.now() - started;
      },
    };
    const active = trace.getActiveSpan()?.spanContext();
    const base = () => ({
      id,
      createdAt,
      latencyMs: performance.now() - started,
      ttftMs: ttft,
      traceId: slot.traceId ?? active?.traceId ?? null,
      spanId: slot.spanId ?? active?.spanId ?? null,
    });
    let result: T;
    try {
      result = await context.with(withGenerationSlot(context.active(), slot), () => run(handle));
    } catch (error) {
      const record = this.#record(call, base(), {
        status: 'FAILED',
        errorType: errorTypeOf(error),
        errorMessage: this.redaction.redact(error instanceof Error ? error.message : String(error)),
      });
      try {
        await scope.run((em) => insertGeneration(em, record));
        recordGenerationMetrics(record);
      } catch (recordError) {
        this.#onRecordError(recordError);
      }
      throw error;
    }
    const out = outcome(result);
    const record = this.#record(call, base(), {
      status: 'SUCCEEDED',
      responseModel: out.responseModel ?? null,
      output: out.output == null ? null : this.redaction.redact(out.output),
      inputTokens: out.inputTokens,
      outputTokens: out.outputTokens,
    });
    await scope.run((em) => insertGeneration(em, record));
    recordGenerationMetrics(record);
    return result;
  }

  #record(
    call: ModelCall,
    base: Pick<GenerationRecord, 'id' | 'createdAt' | 'latencyMs' | 'ttftMs' | 'traceId' | 'spanId'>,
    end: Partial<GenerationRecord> & Pick<GenerationRecord, 'status'>,
  ): GenerationRecord {
    const { caller } = call;
    const inputTokens = Math.max(0, Math.round(end.inputTokens ?? 0));
    const outputTokens = Math.max(0, Math.round(end.outputTokens ?? 0));
    return {
      ...base,
      tenantId: caller.tenantId,
      operation: call.operation,
      purpose: caller.purpose,
      actorKind: caller.actor.kind,
      userId: caller.actor.userId ?? null,
      userName: caller.actor.userName ?? null,
      taskId: caller.taskId ?? null,
      provider: call.provider,
      model: call.model,
      responseModel: end.responseModel ?? null,
      promptName: caller.prompt?.name ?? null,
      promptVersion: caller.prompt?.version ?? null,
      promptVariables: caller.prompt?.variables ? this.redaction.redactValue(caller.prompt.variables) : null,
      promptMessages: caller.prompt?.messages ?? null,
      input: this.redaction.redactValue(call.input),
      output: end.output ?? null,
      inputTokens,
      outputTokens,
      totalTokens: inputTokens + outputTokens,
      costUsd: this.prices.cost(call.provider, call.model, inputTokens, outputTokens),
      status: end.status,
      errorType: end.errorType ?? null,
      errorMessage: end.errorMessage ?? null,
      replayOf: caller.replayOf ?? null,
    };
  }
}

/** `error.type` of a failed call: the LLM error's kind, else the error's class. */
function errorTypeOf(error: unknown): string {
  if (error instanceof LlmError) return error.kind;
  if (error instanceof BudgetExceededError) return 'budget_exceeded';
  if (error instanceof Error) return error.name === 'AbortError' ? 'aborted' : error.name;
  return 'other';
}

/** The recorder of a configuration (LLM_REDACT, LLM_PRICES). */
export function createGenerationRecorder(
  config: GenerationsConfig,
  options: Pick<GenerationRecorderOptions, 'onRecordError'> = {},
): GenerationRecorder {
  return new GenerationRecorder({
    redaction: new RedactionPolicy(config.redact),
    prices: new PriceTable(config.prices),
    record: config.record,
    ...options,
  });
}
