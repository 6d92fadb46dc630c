import {
  type DeadLetterView,
  discardDeadLetter,
  inspectDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  streamStats,
} from '#events/admin/dead-letters.ts';
import type { StreamTransport } from '#events/transport/transport.ts';
import { ForbiddenError, NotFoundError, UnavailableError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';

/**
 * Event-bus administration for a caller: platform operators see every tenant's dead letters and the
 * streams' statistics; a tenant's Admin sees and handles only their own tenant's dead letters.
 */
export class EventBusAdmin {
  readonly #transport: StreamTransport;
  readonly #tenantScope: string | undefined;
  readonly #operator: boolean;

  private constructor(ctx: RequestContext, transport: StreamTransport) {
    this.#transport = transport;
    this.#operator = ctx.operator;
    this.#tenantScope = ctx.operator ? undefined : ctx.identity.tenantId;
  }

  /** The admin of the caller; UNAVAILABLE when this process has no event transport. */
  static of(ctx: RequestContext, transport: StreamTransport | undefined): EventBusAdmin {
    if (!transport) throw new UnavailableError('The event bus is not configured in this service');
    return new EventBusAdmin(ctx, transport);
  }

  /** Statistics of every stream and group; platform operators only (they span tenants). */
  stats() {
    if (!this.#operator) {
      throw new ForbiddenError(
        'Event stream statistics span every tenant: only Admins of a platform operator tenant (OPERATOR_TENANT_IDS) may read them',
      );
    }
    return streamStats(this.#transport);
  }

  /** A page of a topic's dead letters; one more than `first` is fetched to know if more exist. */
  async page(topic: string, first = 50, after?: string | null) {
    const items = await listDeadLetters(this.#transport, {
      topic,
      limit: first,
      ...(after ? { after } : {}),
      ...(this.#tenantScope ? { tenantId: this.#tenantScope } : {}),
    });
    return { items, nextAfter: items.length === first ? (items.at(-1)?.id ?? null) : null };
  }

  /** One dead letter, or null when absent or another tenant's. */
  async find(topic: string, id: string): Promise<DeadLetterView | null> {
    try {
      return await inspectDeadLetter(this.#transport, topic, id, this.#tenantScope);
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  replay(topic: string, id: string): Promise<string> {
    return replayDeadLetter(this.#transport, topic, id, this.#tenantScope);
  }

  async discard(topic: string, id: string): Promise<boolean> {
    await discardDeadLetter(this.#transport, topic, id, this.#tenantScope);
    return true;
  }
}

/** The GraphQL shape of a dead letter. */
export function deadLetterView(letter: DeadLetterView) {
  const event = letter.event ?? {};
  return {
    id: letter.id,
    topic: letter.stream,
    group: letter.group,
    originalId: letter.originalId,
    eventId: typeof event.id === 'string' ? event.id : null,
    eventType: typeof event.type === 'string' ? event.type : null,
    error: letter.error,
    attempts: letter.attempts,
    consumer: letter.consumer,
    failedAt: new Date(letter.failedAt),
    event: letter.body,
  };
}
