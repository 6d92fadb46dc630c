/** Keys whose values never reach the audit log, whatever their nesting. */
const SECRET_KEY =
  /^(?:.*(?:passw(?:or)?d|secret|token|credential|api[-_]?key|private[-_]?key).*|authorization|cookie|content|text|body)$/i;
/** Longest string kept verbatim; longer strings are cut and marked. */
export const MAX_SUMMARY_STRING = 200;
/** Longest object key kept; longer keys are cut and marked. */
const MAX_KEY = 64;
/** Deepest nesting kept; deeper values are replaced by a marker. */
const MAX_DEPTH = 4;
/** Most array items or object keys kept at one level. */
const MAX_ITEMS = 20;
/** Most string characters one summary keeps in all: past it every value becomes a marker. */
export const MAX_SUMMARY_CHARS = 3000;
/** What each value, key or marker costs of that budget besides its characters (its JSON punctuation). */
const ITEM_COST = 4;

/** Marker appended to a string whose unstorable characters were escaped. */
export const ESCAPED_MARKER = '…[escaped]';

/**
 * What PostgreSQL text and jsonb cannot store: NUL (U+0000) and UTF-16 surrogates that are not part
 * of a pair (JSON can spell them, PostgreSQL refuses them; the UTF-8 encoder would replace them).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what PostgreSQL refuses
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A rendering of `value` that PostgreSQL can store and that keeps what it said: NUL and lone
 * surrogates become the six characters `\uXXXX` (backslashes already present are doubled, so the
 * rendering is unambiguous) and the string is marked `…[escaped]`; a string longer than `max` is cut
 * at a code-point boundary (never splitting a pair) and marked with its length.
 */
export function safeText(value: string, max = MAX_SUMMARY_STRING): string {
  const cut = value.length > max;
  let kept = cut ? value.slice(0, max) : value;
  // Cutting between a high and a low surrogate would leave a lone high surrogate behind.
  if (cut && /[\uD800-\uDBFF]$/.test(kept) && /^[\uDC00-\uDFFF]/.test(value.slice(max))) {
    kept = kept.slice(0, -1);
  }
  UNSTORABLE.lastIndex = 0;
  const unsafe = UNSTORABLE.test(kept);
  UNSTORABLE.lastIndex = 0;
  if (unsafe) {
    kept = kept
      .replaceAll('\\', '\\\\')
      .replace(UNSTORABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  }
  return `${kept}${cut ? `…[${value.length} chars]` : ''}${unsafe ? ESCAPED_MARKER : ''}`;
}

/**
 * {@link safeText} cut short enough that the whole rendering, markers included, has at most `max`
 * characters (for columns with a length check).
 */
export function fitText(value: string, max: number): string {
  let limit = max;
  for (;;) {
    const text = safeText(value, limit);
    if (text.length <= max || limit === 0) return text.slice(0, max);
    limit = Math.max(0, Math.min(limit - 1, Math.floor((limit * max) / text.length) - 1));
  }
}

/** Whether `value` holds a character PostgreSQL cannot store (NUL, a lone surrogate). */
export function hasUnstorable(value: string): boolean {
  UNSTORABLE.lastIndex = 0;
  const found = UNSTORABLE.test(value);
  UNSTORABLE.lastIndex = 0;
  return found;
}

/**
 * A redacted, bounded summary of an operation's input for the audit log: secrets and free text are
 * replaced by `[redacted]`, long strings are cut, deep or wide structures are truncated, and what
 * jsonb cannot store is escaped (see {@link safeText}), so the summary of any input can be written.
 * Non-JSON values are named (`[bigint 123]`, dates as ISO strings, `[invalid date]`).
 */
export function summarizeInput(input: unknown): unknown {
  const budget = { left: MAX_SUMMARY_CHARS };
  return summarize(input, 0, budget);
}

function summarize(input: unknown, depth: number, budget: { left: number }): unknown {
  if (input === null || input === undefined) return null;
  if (budget.left <= 0) return '[truncated]';
  budget.left -= ITEM_COST;
  if (typeof input === 'string') {
    const text = safeText(input, Math.min(MAX_SUMMARY_STRING, Math.max(budget.left, 16)));
    budget.left -= text.length;
    return text;
  }
  if (typeof input === 'number') return Number.isFinite(input) ? input : `[${String(input)}]`;
  if (typeof input === 'boolean') return input;
  if (typeof input === 'bigint') return safeText(`[bigint ${input}]`, 60);
  if (input instanceof Date) {
    return Number.isNaN(input.getTime()) ? '[invalid date]' : input.toISOString();
  }
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(input)) {
    const kept = input.slice(0, MAX_ITEMS).map((item) => summarize(item, depth + 1, budget));
    return input.length > MAX_ITEMS ? [...kept, `[+${input.length - MAX_ITEMS} more]`] : kept;
  }
  if (typeof input === 'object') {
    const entries = Object.entries(input as Record<string, unknown>);
    const out: Record<string, unknown> = {};
    for (const [rawKey, value] of entries.slice(0, MAX_ITEMS)) {
      const key = safeText(rawKey, MAX_KEY);
      budget.left -= key.length;
      out[key] = SECRET_KEY.test(rawKey) ? '[redacted]' : summarize(value, depth + 1, budget);
    }
    if (entries.length > MAX_ITEMS) out['…'] = `[+${entries.length - MAX_ITEMS} more keys]`;
    return out;
  }
  return `[${typeof input}]`;
}
