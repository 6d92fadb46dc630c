import type { EntityManager } from '@mikro-orm/postgresql';
import {
  defaultFieldResolver,
  type GraphQLField,
  type GraphQLFieldResolver,
  GraphQLObjectType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  getNamedType,
  isObjectType,
} from 'graphql';
import { type AuditEntry, type AuditOutcome, actorOf, recordAudit } from '../audit/audit-log.ts';
import { recordRefusal } from '../audit/refusals.ts';
import type { TenantScope } from '../db/tenant-context.ts';
import { AppError, ForbiddenError, ValidationError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { RequestContext } from './context.ts';
import { assertHasRole, declaredRoles, ROLE_DIRECTIVE, type Role } from './roles.ts';

/** Root fields federation itself answers; `_service` serves the SDL to composition tools. */
const FEDERATION_FIELDS = new Set(['_service']);

/** Options of {@link guardSchema}. */
export interface GuardOptions {
  /** Prefix of audit actions, e.g. `agent` → `agent.createTask`. */
  subgraph: string;
  logger?: Logger;
}

/**
 * Enforces the schema's `@requiresRole` declarations and audits every mutation and every denial.
 *
 * - Every Query and Mutation field must declare its roles; one that does not is denied to everyone.
 * - `_entities` checks the declaration on each requested entity type the same way.
 * - A mutation runs in one tenant transaction (every `ctx.db.run` of its resolver joins it) that
 *   ends by appending its audit record, so the change and its record commit or fail together; a
 *   failed or denied attempt is recorded in its own transaction afterwards.
 */
export function guardSchema(schema: GraphQLSchema, options: GuardOptions): GraphQLSchema {
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    if (!root) continue;
    const isMutation = root === schema.getMutationType();
    for (const field of Object.values(root.getFields())) {
      if (FEDERATION_FIELDS.has(field.name)) continue;
      if (field.name === '_entities') {
        field.resolve = guardEntities(schema, field, options);
        continue;
      }
      const roles = declaredRoles([field.astNode], `${root.name}.${field.name}`);
      field.resolve = guardField(field, roles, isMutation, options);
    }
  }
  return schema;
}

/** The role declaration of every root field and entity type, for the role matrix and tests. */
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

function guardField(
  field: GraphQLField<unknown, RequestContext>,
  roles: Role[] | undefined,
  isMutation: boolean,
  options: GuardOptions,
): GraphQLFieldResolver<unknown, RequestContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  const action = `${options.subgraph}.${field.name}`;
  return async (source, args, ctx, info) => {
    try {
      if (!roles) {
        throw new ForbiddenError(
          `${info.parentType.name}.${field.name} declares no @${ROLE_DIRECTIVE} requirement, so it is denied to everyone`,
        );
      }
      assertHasRole(ctx.identity, roles, `${info.parentType.name}.${field.name}`);
    } catch (error) {
      await audit(ctx, action, info, args, 'denied', options);
      throw error;
    }
    if (isMutation) return runAudited(resolve, source, args, ctx, info, action, options);
    // A refused or failed query is recorded too (hostile-input ADR 0013), as a mutation's attempt is.
    try {
      assertNoNulCharacters(args, field.name);
      return await resolve(source, args, ctx, info);
    } catch (error) {
      const code = error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR';
      const outcome = error instanceof ForbiddenError ? 'denied' : 'failed';
      await audit(ctx, action, info, { ...args, _error: code }, outcome, options);
      throw error;
    }
  };
}

async function runAudited(
  resolve: GraphQLFieldResolver<unknown, RequestContext>,
  source: unknown,
  args: Record<string, unknown>,
  ctx: RequestContext,
  info: GraphQLResolveInfo,
  action: string,
  options: GuardOptions,
): Promise<unknown> {
  const tx = new LazyTransaction(ctx);
  try {
    assertNoNulCharacters(args, info.fieldName);
    const result = await resolve(source, args, { ...ctx, db: tx.scope }, info);
    const target = { type: targetTypeOf(info), id: targetIdOf(result, args) };
    const record = (em: EntityManager) =>
      recordAudit(em, ctx.db.tenantId, entryOf(ctx, action, 'success', args, target));
    // With a transaction: the record ends it, so both commit or neither. Without (no data changed
    // in this database, e.g. an event-bus operation): the record gets its own transaction.
    if (tx.started) await tx.commit(record);
    else await ctx.db.run(record);
    return result;
  } catch (error) {
    await tx.rollback(error);
    const outcome = error instanceof ForbiddenError ? 'denied' : 'failed';
    const code = error instanceof AppError ? error.code : 'INTERNAL_SERVER_ERROR';
    await audit(ctx, action, info, { ...args, _error: code }, outcome, options);
    throw error;
  }
}

/**
 * The one transaction of a mutation, begun only when the resolver first reaches the database (so no
 * transaction is held while it talks to other systems first) and kept open until the guard commits it
 * with the audit record. Every `run` of the resolver joins it.
 */
type TransactionOutcome =
  | { ok: true; finish: (em: EntityManager) => Promise<unknown> }
  | { ok: false; error: unknown };

class LazyTransaction {
  readonly scope: TenantScope;
  #em: Promise<EntityManager> | undefined;
  #end:
    | ((
        outcome:
          | { ok: true; finish: (em: EntityManager) => Promise<unknown> }
          | { ok: false; error: unknown },
      ) => void)
    | undefined;
  #finished: Promise<unknown> | undefined;

  constructor(ctx: RequestContext) {
    this.scope = {
      tenantId: ctx.db.tenantId,
      run: async (work) => work(await this.#begin(ctx)),
    };
  }

  get started(): boolean {
    return this.#em !== undefined;
  }

  #begin(ctx: RequestContext): Promise<EntityManager> {
    this.#em ??= new Promise<EntityManager>((resolveEm, rejectEm) => {
      this.#finished = ctx.db.run(async (em) => {
        const outcome = await new Promise<TransactionOutcome>((end) => {
          this.#end = end;
          resolveEm(em);
        });
        if (!outcome.ok) throw outcome.error;
        await outcome.finish(em);
      });
      this.#finished.catch(rejectEm);
    });
    return this.#em;
  }

  /** Runs `finish` in the transaction and commits it. */
  async commit(finish: (em: EntityManager) => Promise<unknown>): Promise<void> {
    this.#end?.({ ok: true, finish });
    await this.#finished;
  }

  /** Rolls the transaction back, if one was begun. */
  async rollback(error: unknown): Promise<void> {
    if (!this.#em) return;
    this.#end?.({ ok: false, error });
    await this.#finished?.catch(() => {});
  }
}

function guardEntities(
  schema: GraphQLSchema,
  field: GraphQLField<unknown, RequestContext>,
  options: GuardOptions,
): GraphQLFieldResolver<unknown, RequestContext> {
  const resolve = field.resolve ?? defaultFieldResolver;
  return async (source, args, ctx, info) => {
    const representations = (args.representations ?? []) as { __typename?: unknown }[];
    const typeNames = new Set(representations.map((r) => String(r.__typename)));
    for (const name of typeNames) {
      const type = schema.getType(name);
      try {
        const roles = type instanceof GraphQLObjectType ? typeRoles(type) : undefined;
        if (!roles) {
          throw new ForbiddenError(
            `Entity ${name} declares no @${ROLE_DIRECTIVE} requirement, so it is denied`,
          );
        }
        assertHasRole(ctx.identity, roles, `Resolving ${name} entities`);
      } catch (error) {
        await audit(
          ctx,
          `${options.subgraph}._entities`,
          info,
          { typename: name },
          'denied',
          options,
          null,
          name,
        );
        throw error;
      }
    }
    // A representation that fails (a malformed id) is recorded, once per request (ADR 0013).
    const items: unknown[] = await Promise.resolve()
      .then(() => resolve(source, args, ctx, info) as unknown[])
      .catch((error: unknown) => [Promise.reject(error)]);
    const settled: PromiseSettledResult<unknown>[] = await Promise.allSettled(items);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const code = failed.reason instanceof AppError ? failed.reason.code : 'INTERNAL_SERVER_ERROR';
      const input = { representations: args.representations, _error: code };
      await audit(ctx, `${options.subgraph}._entities`, info, input, 'failed', options, null, '_Entity');
    }
    return settled.map((r) =>
      r.status === 'fulfilled' ? r.value : r.reason instanceof Error ? r.reason : new Error(String(r.reason)),
    );
  };
}

function typeRoles(type: GraphQLObjectType): Role[] | undefined {
  return declaredRoles([type.astNode, ...type.extensionASTNodes], type.name);
}

function isEntity(type: GraphQLObjectType): boolean {
  return [type.astNode, ...type.extensionASTNodes].some((node) =>
    node?.directives?.some((d) => d.name.value === 'key'),
  );
}

async function audit(
  ctx: RequestContext,
  action: string,
  info: GraphQLResolveInfo,
  args: Record<string, unknown>,
  outcome: AuditOutcome,
  options: GuardOptions,
  targetId: string | null = targetIdOf(undefined, args),
  targetType = targetTypeOf(info),
): Promise<void> {
  // Never throws; a record that cannot be written is logged and counted (kernel/src/audit/refusals.ts).
  const target = { type: targetType, id: targetId };
  await recordRefusal(ctx.db, entryOf(ctx, action, outcome, args, target), options.logger);
}

/** The audit record of an attempt by the request's caller. */
function entryOf(
  ctx: RequestContext,
  action: string,
  outcome: AuditOutcome,
  args: Record<string, unknown>,
  target: { type: string; id: string | null },
): AuditEntry {
  return {
    actor: actorOf(ctx.identity),
    action,
    targetType: target.type,
    targetId: target.id,
    outcome,
    requestId: ctx.requestId,
    input: args,
  };
}

/**
 * PostgreSQL text cannot hold U+0000; refuse it at the boundary with a clear message instead of
 * letting the database fail the statement.
 */
function assertNoNulCharacters(value: unknown, path: string): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) {
      throw new ValidationError(`${path} contains a NUL character (U+0000), which is not allowed`, {
        argument: path,
      });
    }
  } else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) assertNoNulCharacters(item, `${path}[${i}]`);
  } else if (value && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) assertNoNulCharacters(item, `${path}.${key}`);
  }
}

function targetTypeOf(info: GraphQLResolveInfo): string {
  return getNamedType(info.returnType).name;
}

function targetIdOf(result: unknown, args: Record<string, unknown>): string | null {
  const fromResult = (result as { id?: unknown } | null | undefined)?.id;
  if (typeof fromResult === 'string') return fromResult;
  const input = args.input as { id?: unknown } | undefined;
  const candidate = args.id ?? input?.id;
  // Cut (and made storable) by recordAudits, which marks the cut with the original length.
  return typeof candidate === 'string' ? candidate : null;
}
