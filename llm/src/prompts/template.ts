// `{{variable}}` templates: the one syntax of stored prompts (ADR 0038). Rendering is a single pass,
// so a variable's value that itself contains `{{…}}` (a question, a document) is never expanded.
import { ValidationError } from '#kernel/errors.ts';

/** A placeholder: `{{name}}`, spaces inside the braces allowed. */
const PLACEHOLDER = /\{\{([^{}]*)\}\}/g;
/** What a variable's name may be. */
const NAME = /^[a-z][a-z0-9_]*$/i;

/** A template that cannot be used as written, or a rendering that lacks a value. */
export class PromptTemplateError extends ValidationError {}

/** The variables a template names, in order of first use (names trimmed of spaces). */
export function placeholdersOf(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!.trim();
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Refuses a template that names a placeholder outside `allowed` or that is not a placeholder at
 * all (`{{ }}`, `{{a b}}`), naming each one and the variables it may use. `field` names the part
 * of the prompt (system, user) in the message.
 */
export function validateTemplate(template: string, allowed: readonly string[], field: string): void {
  const bad = placeholdersOf(template).filter((name) => !NAME.test(name) || !allowed.includes(name));
  if (bad.length > 0) {
    const list = bad.map((name) => `{{${name}}}`).join(', ');
    throw new PromptTemplateError(
      `The ${field} template uses unknown placeholder${bad.length > 1 ? 's' : ''} ${list}; ` +
        `it may use ${allowed.map((name) => `{{${name}}}`).join(', ')}`,
      { argument: field, unknown: bad, allowed },
    );
  }
}

/**
 * The template with each `{{name}}` replaced by `variables[name]`. A placeholder without a value
 * (or one that is not a variable name) is an error naming it and the values given.
 */
export function renderTemplate(template: string, variables: Readonly<Record<string, string>>): string {
  const missing = placeholdersOf(template).filter(
    (name) => !NAME.test(name) || !Object.hasOwn(variables, name) || typeof variables[name] !== 'string',
  );
  if (missing.length > 0) {
    const given = Object.keys(variables);
    throw new PromptTemplateError(
      `The template uses ${missing.map((name) => `{{${name}}}`).join(', ')} but no value was given for ` +
        `${missing.length > 1 ? 'them' : 'it'} (values given: ${given.length > 0 ? given.join(', ') : 'none'})`,
      { missing, given },
    );
  }
  return template.replace(PLACEHOLDER, (_, name: string) => variables[name.trim()]!);
}
