import { NotFoundError, ValidationError } from '#kernel/errors.ts';
import type { DeadLetter, StreamGroupStats, StreamTransport } from '../transport/transport.ts';

/** Most dead letters one list call returns. */
export const MAX_DEAD_LETTER_PAGE = 500;

/** A dead letter with its event decoded (undefined when the body is not JSON). */
export interface DeadLetterView extends DeadLetter {
  event: Record<string, unknown> | undefined;
}

/** Filters of {@link listDeadLetters}. */
export interface DeadLetterFilter {
  topic: string;
  /** Only this tenant's dead letters (a tenant admin passes their own tenant). */
  tenantId?: string;
  /** Paging: records after this dead-letter id. */
  after?: string;
  /** 1 to {@link MAX_DEAD_LETTER_PAGE}; default 50. */
  limit?: number;
}

/** The topic, if the bus knows it (a stream with a consumer group or dead letters). */
async function topicOf(transport: StreamTransport, topic: string): Promise<string> {
  const known = await transport.streams();
  if (!known.includes(topic)) {
    throw new ValidationError(`unknown topic "${topic}"; known topics: ${known.join(', ') || 'none yet'}`, {
      field: 'topic',
    });
  }
  return topic;
}

function view(letter: DeadLetter): DeadLetterView {
  let event: Record<string, unknown> | undefined;
  try {
    event = JSON.parse(letter.body) as Record<string, unknown>;
  } catch {
    event = undefined;
  }
  return { ...letter, event };
}

/** Lists a topic's dead letters, oldest first, optionally only one tenant's. */
export async function listDeadLetters(
  transport: StreamTransport,
  filter: DeadLetterFilter,
): Promise<DeadLetterView[]> {
  const limit = filter.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_DEAD_LETTER_PAGE) {
    throw new ValidationError(`limit must be from 1 to ${MAX_DEAD_LETTER_PAGE} (got ${limit})`, {
      field: 'limit',
    });
  }
  const letters = await transport.listDeadLetters({
    stream: await topicOf(transport, filter.topic),
    limit,
    ...(filter.tenantId ? { tenantId: filter.tenantId } : {}),
    ...(filter.after ? { after: validId(filter.after) } : {}),
  });
  return letters.map(view);
}

function validId(id: string): string {
  if (!/^\d{1,20}(-\d{1,20})?$/.test(id)) {
    throw new ValidationError(`"${id}" is not a dead-letter id`, { field: 'id' });
  }
  return id;
}

/** One dead letter; NotFoundError if absent or (with `tenantId`) another tenant's. */
export async function inspectDeadLetter(
  transport: StreamTransport,
  topic: string,
  id: string,
  tenantId?: string,
): Promise<DeadLetterView> {
  const letter = await transport.getDeadLetter(await topicOf(transport, topic), validId(id));
  if (!letter || (tenantId && letter.tenantId !== tenantId)) {
    throw new NotFoundError(`no dead letter ${id} on ${topic}`);
  }
  return view(letter);
}

/**
 * Puts a dead letter back on its stream (every group sees it again; groups that already
 * processed the event skip it by its id) and removes the record. Returns the new entry id.
 */
export async function replayDeadLetter(
  transport: StreamTransport,
  topic: string,
  id: string,
  tenantId?: string,
): Promise<string> {
  await inspectDeadLetter(transport, topic, id, tenantId);
  const newId = await transport.replayDeadLetter(topic, id);
  if (!newId) throw new NotFoundError(`no dead letter ${id} on ${topic}`);
  return newId;
}

/** Deletes a dead letter for good. */
export async function discardDeadLetter(
  transport: StreamTransport,
  topic: string,
  id: string,
  tenantId?: string,
): Promise<void> {
  await inspectDeadLetter(transport, topic, id, tenantId);
  if (!(await transport.discardDeadLetter(topic, id))) {
    throw new NotFoundError(`no dead letter ${id} on ${topic}`);
  }
}

/** Length, pending, lag, oldest pending age and dead letters of every (topic, group) pair. */
export async function streamStats(
  transport: StreamTransport,
  topics?: readonly string[],
): Promise<StreamGroupStats[]> {
  const stats: StreamGroupStats[] = [];
  for (const topic of topics ?? (await transport.streams())) {
    for (const group of await transport.groups(topic)) stats.push(await transport.stats(topic, group));
  }
  return stats;
}
