/** Keys whose values never reach the audit log, whatever their nesting. */
const SECRET_KEY =
  /^(?:.*(?:passw(?:or)?d|secret|token|credential|api[-_]?key|private[-_]?key).*|authorization|cookie|content|text|body)$/i;
/** Longest string kept verbatim; longer strings are cut and marked. */
export const MAX_SUMMARY_STRING = 200;
/** Deepest nesting kept; deeper values are replaced by a marker. */
const MAX_DEPTH = 4;
/** Most array items or object keys kept at one level. */
const MAX_ITEMS = 20;

/**
 * A redacted, bounded summary of a mutation's input for the audit log: secrets and free text are
 * replaced by `[redacted]`, long strings are cut, deep or wide structures are truncated.
 */
export function summarizeInput(input: unknown, depth = 0): unknown {
  if (input === null || input === undefined) return null;
  if (typeof input === 'string') {
    return input.length > MAX_SUMMARY_STRING
      ? `${input.slice(0, MAX_SUMMARY_STRING)}…[${input.length} chars]`
      : input;
  }
  if (typeof input === 'number' || typeof input === 'boolean') return input;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(input)) {
    const kept = input.slice(0, MAX_ITEMS).map((item) => summarizeInput(item, depth + 1));
    return input.length > MAX_ITEMS ? [...kept, `[+${input.length - MAX_ITEMS} more]`] : kept;
  }
  if (typeof input === 'object') {
    const entries = Object.entries(input as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const [key, value] of entries.slice(0, MAX_ITEMS)) {
      out[key] = SECRET_KEY.test(key) ? '[redacted]' : summarizeInput(value, depth + 1);
    }
    if (entries.length > MAX_ITEMS) out['…'] = `[+${entries.length - MAX_ITEMS} more keys]`;
    return out;
  }
  return `[${typeof input}]`;
}
