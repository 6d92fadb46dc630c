import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { buildSchema, type GraphQLSchema } from 'graphql';
import type { Identity } from '#kernel/auth/identity.ts';
import { UnavailableError } from '#kernel/errors.ts';
import { declaredRoles, type Role } from '#kernel/graphql/roles.ts';
import type { LivePubSub } from '../live/live-pubsub.ts';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';

/** The SDL of what the gateway serves over WebSocket. */
export const SUBSCRIPTIONS_SCHEMA_FILE = resolve(
  import.meta.dirname,
  '..',
  '..',
  'schema',
  'subscriptions.graphql',
);

/** The live topic each subscription field follows. */
export const FIELD_TOPICS = {
  taskStatusChanged: 'task.status_changed',
  killSwitchChanged: 'killswitch.changed',
  approvalRequested: 'approval.requested',
  approvalDecided: 'approval.decided',
} as const satisfies Record<string, LiveTopic>;

/** What subscription resolvers receive: the connection's verified caller and the live pub/sub. */
export interface SubscriptionContext {
  identity: Identity;
  live: LivePubSub;
}

/** The executable subscription schema and each root field's declared roles. */
export interface SubscriptionSchema {
  schema: GraphQLSchema;
  /** Roles by `Type.field` of every root field; a field without a declaration is not listed. */
  roles: ReadonlyMap<string, readonly Role[]>;
}

/** Builds the subscription schema from its SDL: every Subscription field needs a topic and roles. */
export async function loadSubscriptionSchema(file = SUBSCRIPTIONS_SCHEMA_FILE): Promise<SubscriptionSchema> {
  return buildSubscriptionSchema(await readFile(file, 'utf8'));
}

/** As {@link loadSubscriptionSchema}, from SDL text. */
export function buildSubscriptionSchema(sdl: string): SubscriptionSchema {
  const schema = buildSchema(sdl);
  const roles = new Map<string, readonly Role[]>();
  for (const root of [schema.getQueryType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const where = `${root?.name}.${field.name}`;
      const declared = declaredRoles([field.astNode], where);
      if (!declared) throw new Error(`${where} declares no @requiresRole; every root field must`);
      roles.set(where, declared);
    }
  }
  const query = schema.getQueryType();
  const subscription = schema.getSubscriptionType();
  if (!query || !subscription)
    throw new Error('the subscription schema needs a Query and a Subscription type');
  query.getFields().liveSubscriptions!.resolve = () => Object.keys(subscription.getFields());
  for (const field of Object.values(subscription.getFields())) {
    const topic = (FIELD_TOPICS as Record<string, LiveTopic>)[field.name];
    if (!topic) throw new Error(`Subscription.${field.name} has no live topic in FIELD_TOPICS`);
    // Roles are checked once, by the gateway pipeline's role plugin, before anything subscribes.
    field.subscribe = async (_source, args: { taskId?: string | null }, ctx: SubscriptionContext) => {
      // The channel comes from the verified tenant only; arguments merely filter within it.
      const subscription = ctx.live.subscribe(ctx.identity.tenantId, topic);
      try {
        await subscription.ready;
      } catch {
        throw new UnavailableError('Live updates are unavailable right now; subscribe again shortly');
      }
      const taskId = args.taskId;
      return taskId ? filtered(subscription, (m) => 'taskId' in m && m.taskId === taskId) : subscription;
    };
    field.resolve = (message: unknown) => message;
  }
  return { schema, roles };
}

async function* filtered<T extends LiveTopic>(
  source: AsyncIterableIterator<LiveMessage<T>> & { return(): Promise<unknown> },
  keep: (message: LiveMessage<T>) => boolean,
): AsyncGenerator<LiveMessage<T>> {
  try {
    for await (const message of source) if (keep(message)) yield message;
  } finally {
    await source.return();
  }
}
