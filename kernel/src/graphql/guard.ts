import { type GraphQLSchema, isObjectType } from 'graphql';
import { guardEntities, isEntity, typeRoles } from './guard/entities-guard.ts';
import { guardField } from './guard/field-guard.ts';
import type { GuardOptions } from './guard/guard-options.ts';
import { guardService } from './guard/service-guard.ts';
import { guardSubscriptionField } from './guard/subscription-guard.ts';
import { declaredRoles } from './roles.ts';
import { STREAM_PATH } from './subscription-route.ts';

export type { GuardOptions } from './guard/guard-options.ts';

/** Root fields federation itself answers; `_service` serves the SDL to the platform's own services. */
const FEDERATION_FIELDS = new Set(['_service']);

/**
 * Enforces the schema's `@requiresRole` declarations and audits every mutation and every denial.
 *
 * - Every Query and Mutation field must declare its roles; one that does not is denied to everyone.
 * - `_entities` checks the declaration on each requested entity type the same way.
 * - Subscription fields check their roles in `subscribe`, before any event source opens.
 * - `_service` answers only the platform's own service identities (`serviceClientIds`).
 * - A mutation runs in one tenant transaction (every `ctx.db.run` of its resolver joins it) that
 *   ends by appending its audit record, so the change and its record commit or fail together; a
 *   failed or denied attempt is recorded in its own transaction afterwards.
 */
export function guardSchema(schema: GraphQLSchema, options: GuardOptions): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root) continue;
    const isMutation = root === schema.getMutationType();
    for (const field of Object.values(root.getFields())) {
      if (field.name === '_service') field.resolve = guardService(field, options);
      else if (field.name === '_entities') field.resolve = guardEntities(schema, field, options);
      else
        field.resolve = guardField(
          field,
          declaredRoles([field.astNode], `${root.name}.${field.name}`),
          isMutation,
          options,
        );
    }
  }
  for (const field of Object.values(schema.getSubscriptionType()?.getFields() ?? {})) {
    guardSubscriptionField(field, declaredRoles([field.astNode], `Subscription.${field.name}`), {
      ...options,
      streamPath: STREAM_PATH,
    });
  }
  return schema;
}

/** Root fields and entity types that declare no roles (denied to everyone), for the role matrix and tests. */
export function undeclaredOperations(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const root of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      if (FEDERATION_FIELDS.has(field.name) || field.name === '_entities') continue;
      if (!declaredRoles([field.astNode], `${root?.name}.${field.name}`))
        missing.push(`${root?.name}.${field.name}`);
    }
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) && isEntity(type) && !typeRoles(type)) missing.push(type.name);
  }
  return missing;
}
