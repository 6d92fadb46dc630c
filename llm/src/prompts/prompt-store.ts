// A tenant's prompt versions in observability.prompts (ADR 0038), read and written in the caller's
// tenant transaction: row-level security decides which tenant's versions exist. Nothing is cached,
// so a version stored through one replica is the current one of the next call on every replica.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { TenantScope } from '#kernel/db/tenant-context.ts';
import { NotFoundError, ValidationError } from '#kernel/errors.ts';
import type { ChatMessage } from '../chat.ts';
import { BUILT_IN_PROMPTS, type PromptDefinition, promptDefinition } from './built-in.ts';
import { renderTemplate, validateTemplate } from './template.ts';

/** Longest system or user template. */
export const MAX_TEMPLATE_CHARS = 20_000;
/** Longest comment of a version. */
export const MAX_COMMENT_CHARS = 1000;

/** One version of a prompt: version 0 is built in, stored versions count from 1. */
export interface PromptVersion {
  readonly name: string;
  readonly version: number;
  readonly system: string;
  readonly user: string;
  readonly comment: string | null;
  readonly createdBy: string | null;
  readonly createdAt: Date | null;
  readonly builtIn: boolean;
}

/** A version listed with whether it is the tenant's current one (`prompts`). */
export interface ListedPromptVersion extends PromptVersion {
  readonly current: boolean;
}

/** What a generation record names of the prompt it used (the recorder's `prompt`). */
export interface PromptUse {
  readonly name: string;
  readonly version: number;
  /** The values the template was rendered with, so a replay can render another version. */
  readonly variables: Readonly<Record<string, string>>;
  /** How many leading messages of the request came from the template (system, user). */
  readonly messages: number;
}

/** A rendered prompt: the messages that open the request, and what the record says of them. */
export interface RenderedPrompt {
  readonly messages: ChatMessage[];
  readonly use: PromptUse;
}

/** A new version as `setPrompt` gives it. */
export interface NewPromptVersion {
  readonly name: string;
  readonly system: string;
  readonly user: string;
  readonly comment?: string | null;
}

interface PromptRow {
  name: string;
  version: number;
  system: string;
  user: string;
  comment: string | null;
  created_by: string;
  created_at: Date | string;
}

const COLUMNS = 'name, version, system, "user", comment, created_by, created_at';

/** Version 0 of a prompt: the one built into the code. */
export const builtInVersion = (name: string): PromptVersion => builtIn(promptDefinition(name));

const builtIn = (definition: PromptDefinition): PromptVersion => ({
  name: definition.name,
  version: 0,
  system: definition.system,
  user: definition.user,
  comment: null,
  createdBy: null,
  createdAt: null,
  builtIn: true,
});

const toVersion = (row: PromptRow): PromptVersion => ({
  name: row.name,
  version: row.version,
  system: row.system,
  user: row.user,
  comment: row.comment,
  createdBy: row.created_by,
  createdAt: new Date(row.created_at),
  builtIn: false,
});

/** The tenant's current (newest) version of `name`, or the built-in version 0 when it stored none. */
export async function currentPrompt(em: EntityManager, name: string): Promise<PromptVersion> {
  const definition = promptDefinition(name);
  const [row] = await em.execute<PromptRow[]>(
    `select ${COLUMNS} from observability.prompts where name = ? order by version desc limit 1`,
    [name],
  );
  return row ? toVersion(row) : builtIn(definition);
}

/** One version of `name` (0: the built-in one); NOT_FOUND when the tenant has no such version. */
export async function promptVersion(
  em: EntityManager,
  name: string,
  version: number,
): Promise<PromptVersion> {
  const definition = promptDefinition(name);
  if (version === 0) return builtIn(definition);
  const [row] = await em.execute<PromptRow[]>(
    `select ${COLUMNS} from observability.prompts where name = ? and version = ?`,
    [name, version],
  );
  if (!row) throw new NotFoundError(`Prompt ${name} has no version ${version}`, { name, version });
  return toVersion(row);
}

/** Every version of `name` (all prompts when absent), newest first within a name, version 0 last. */
export async function listPrompts(em: EntityManager, name?: string | null): Promise<ListedPromptVersion[]> {
  const definitions = name ? [promptDefinition(name)] : [...BUILT_IN_PROMPTS.values()];
  const rows = await em.execute<PromptRow[]>(
    `select ${COLUMNS} from observability.prompts ${name ? 'where name = ?' : ''} order by name, version desc`,
    name ? [name] : [],
  );
  return definitions.flatMap((definition) => {
    const versions = [...rows.filter((r) => r.name === definition.name).map(toVersion), builtIn(definition)];
    return versions.map((v, i) => ({ ...v, current: i === 0 }));
  });
}

/**
 * Stores the next version of a prompt (1 for the first), which becomes the tenant's current one.
 * Both templates are validated first: a placeholder the renderer does not give is refused, naming
 * it and the variables allowed. Concurrent calls for one name are serialised by a transaction lock,
 * so each gets its own number.
 */
export async function createPromptVersion(
  em: EntityManager,
  tenantId: string,
  input: NewPromptVersion,
  createdBy: string,
): Promise<PromptVersion> {
  const definition = promptDefinition(input.name);
  for (const field of ['system', 'user'] as const) {
    const template = input[field];
    if (template.trim() === '') {
      throw new ValidationError(`The ${field} template must not be empty`, { argument: field });
    }
    if (template.length > MAX_TEMPLATE_CHARS) {
      throw new ValidationError(`The ${field} template must be at most ${MAX_TEMPLATE_CHARS} characters`, {
        argument: field,
        limit: MAX_TEMPLATE_CHARS,
      });
    }
    validateTemplate(template, definition.variables, field);
  }
  const comment = input.comment?.trim() || null;
  if (comment && comment.length > MAX_COMMENT_CHARS) {
    throw new ValidationError(`comment must be at most ${MAX_COMMENT_CHARS} characters`, {
      argument: 'comment',
      limit: MAX_COMMENT_CHARS,
    });
  }
  await em.execute('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
    `observability.prompts:${tenantId}:${definition.name}`,
  ]);
  const [row] = await em.execute<PromptRow[]>(
    `insert into observability.prompts (tenant_id, name, version, system, "user", comment, created_by)
     select ?, ?, coalesce(max(version), 0) + 1, ?, ?, ?, ?
       from observability.prompts where name = ?
     returning ${COLUMNS}`,
    [tenantId, definition.name, input.system, input.user, comment, createdBy.slice(0, 300), definition.name],
  );
  return toVersion(row!);
}

/**
 * The opening messages of a request from `version` and the renderer's `variables` (system, then
 * user), with what the generation record names of them.
 */
export function renderPrompt(
  version: PromptVersion,
  variables: Readonly<Record<string, string>>,
): RenderedPrompt {
  return {
    messages: [
      { role: 'system', content: renderTemplate(version.system, variables) },
      { role: 'user', content: renderTemplate(version.user, variables) },
    ],
    use: { name: version.name, version: version.version, variables: { ...variables }, messages: 2 },
  };
}

/** Reads prompt versions through a tenant scope (one short transaction per read; no cache, ADR 0038). */
export class PromptStore {
  /** The tenant's current version of `name`. */
  current(scope: TenantScope, name: string): Promise<PromptVersion> {
    return scope.run((em) => currentPrompt(em, name));
  }

  /** The tenant's current version of `name`, rendered with `variables`. */
  async render(
    scope: TenantScope,
    name: string,
    variables: Readonly<Record<string, string>>,
  ): Promise<RenderedPrompt> {
    return renderPrompt(await this.current(scope, name), variables);
  }
}
