import { readFile } from 'node:fs/promises';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { type GraphQLSchema, getNamedType, isObjectType, parse } from 'graphql';
import { declaredRoles, type Role } from '#kernel/graphql/roles.ts';
import { LIVE_SUBGRAPH } from '../compose.ts';
import type { LiveMessage, LiveTopic } from '../live/topics.ts';

/** The SDL of the gateway's own subgraph (`live`): the Subscription fields. */
export const SUBSCRIPTIONS_SCHEMA_FILE = LIVE_SUBGRAPH.file;

/** The live topic each subscription field follows. */
export const FIELD_TOPICS = {
  taskStatusChanged: 'task.status_changed',
  taskStepCompleted: 'task.step_completed',
  killSwitchChanged: 'killswitch.changed',
  approvalRequested: 'approval.requested',
  approvalDecided: 'approval.decided',
  documentStatusChanged: 'document.status_changed',
} as const satisfies Record<string, LiveTopic>;

/** A subscription field's name. */
export type SubscriptionField = keyof typeof FIELD_TOPICS;

/** The subscription schema: the `live` subgraph's executable schema and each root field's roles. */
export interface SubscriptionSchema {
  /** The `live` subgraph, executed in the gateway's process for the root field of each event. */
  schema: GraphQLSchema;
  /** Roles by `Subscription.field`. */
  roles: ReadonlyMap<string, readonly Role[]>;
}

/** Builds the subscription schema from its SDL: every Subscription field needs a topic and roles. */
export async function loadSubscriptionSchema(file = SUBSCRIPTIONS_SCHEMA_FILE): Promise<SubscriptionSchema> {
  return buildSubscriptionSchema(await readFile(file, 'utf8'));
}

/**
 * As {@link loadSubscriptionSchema}, from SDL text. A root field resolves to the event's message; an
 * entity field (`task`, `approval`, `document`) to the reference `{ id: message.<field>Id }`, which
 * the gateway's query plan completes from the subgraph that owns the entity.
 */
export function buildSubscriptionSchema(sdl: string): SubscriptionSchema {
  const schema = buildSubgraphSchema([{ typeDefs: parse(sdl) }]);
  const subscription = schema.getSubscriptionType();
  if (!subscription) throw new Error('the subscription schema needs a Subscription type');
  const roles = new Map<string, readonly Role[]>();
  for (const field of Object.values(subscription.getFields())) {
    const where = `Subscription.${field.name}`;
    const declared = declaredRoles([field.astNode], where);
    if (!declared) throw new Error(`${where} declares no @requiresRole; every root field must`);
    roles.set(where, declared);
    if (!(field.name in FIELD_TOPICS)) throw new Error(`${where} has no live topic in FIELD_TOPICS`);
    field.resolve = (message: LiveMessage<LiveTopic>) => message;
    const event = getNamedType(field.type);
    if (!isObjectType(event)) throw new Error(`${where} must return an object type`);
    for (const member of Object.values(event.getFields())) {
      const target = getNamedType(member.type);
      if (!isObjectType(target) || !target.astNode?.directives?.some((d) => d.name.value === 'key')) continue;
      const key = `${member.name}Id`;
      member.resolve = (message: Record<string, unknown>) =>
        typeof message[key] === 'string' ? { id: message[key] } : null;
    }
  }
  return { schema, roles };
}

/** The argument of each field that narrows its events, and the message member it must equal. */
export const FIELD_FILTERS: Readonly<Partial<Record<SubscriptionField, string>>> = {
  taskStatusChanged: 'taskId',
  taskStepCompleted: 'taskId',
  approvalRequested: 'taskId',
  approvalDecided: 'taskId',
  documentStatusChanged: 'documentId',
};
