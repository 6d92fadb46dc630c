// What is taken out of prompts and answers before they are stored or put on a span (LLM_REDACT,
// ADR 0037): e-mail addresses, keys and secrets, national id numbers. Each match becomes a marker
// naming the rule, so a reader sees that something was there and what kind of thing it was.

/** The rules LLM_REDACT may name. */
export const REDACTION_RULES = ['email', 'secret', 'cpr', 'ssn'] as const;

/** One redaction rule. */
export type RedactionRule = (typeof REDACTION_RULES)[number];

interface Pattern {
  readonly regex: RegExp;
  readonly replace: string;
}

const marker = (rule: RedactionRule) => `[REDACTED:${rule}]`;

const PATTERNS: Record<RedactionRule, readonly Pattern[]> = {
  email: [
    { regex: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, replace: marker('email') },
  ],
  secret: [
    // `Authorization: Bearer …`, `Bearer …`
    { regex: /\bBearer\s+[A-Za-z0-9._~+/-]+=*/gi, replace: `Bearer ${marker('secret')}` },
    // JSON Web Tokens
    { regex: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, replace: marker('secret') },
    // OpenAI / Anthropic style keys, GitHub tokens, AWS access key ids, Slack tokens
    { regex: /\bsk-[A-Za-z0-9_-]{16,}/g, replace: marker('secret') },
    { regex: /\bgh[pousr]_[A-Za-z0-9]{20,}/g, replace: marker('secret') },
    { regex: /\bAKIA[0-9A-Z]{16}\b/g, replace: marker('secret') },
    { regex: /\bxox[abprs]-[A-Za-z0-9-]{10,}/g, replace: marker('secret') },
    // key=value and "key": "value" where the key names a secret
    {
      regex:
        /\b((?:api[_-]?key|apikey|secret|client[_-]?secret|password|passwd|pwd|token|access[_-]?token)["']?\s*[:=]\s*["']?)[^\s"',;]+/gi,
      replace: `$1${marker('secret')}`,
    },
  ],
  // Danish CPR: DDMMYY-SSSS or DDMMYYSSSS, with a valid day and month.
  cpr: [{ regex: /\b(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}-?\d{4}\b/g, replace: marker('cpr') }],
  // US Social Security number: AAA-GG-SSSS, excluding numbers never issued.
  ssn: [{ regex: /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g, replace: marker('ssn') }],
};

/** Removes what its rules name from text, and from every string inside a JSON-like value. */
export class RedactionPolicy {
  readonly rules: readonly RedactionRule[];
  readonly #patterns: readonly Pattern[];

  constructor(rules: readonly RedactionRule[] = REDACTION_RULES) {
    this.rules = [...new Set(rules)];
    this.#patterns = this.rules.flatMap((rule) => PATTERNS[rule]);
  }

  /** `text` with every match replaced by `[REDACTED:<rule>]`. */
  redact(text: string): string {
    let out = text;
    for (const { regex, replace } of this.#patterns) out = out.replace(regex, replace);
    return out;
  }

  /** A copy of `value` with every string (object keys excepted) redacted. */
  redactValue<T>(value: T): T {
    if (this.#patterns.length === 0) return value;
    return walk(value, (s) => this.redact(s)) as T;
  }
}

function walk(value: unknown, redact: (s: string) => string): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((v) => walk(v, redact));
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, redact)]));
  }
  return value;
}

/**
 * The rules of an LLM_REDACT value: `all` (default), `none`, or a comma-separated list of
 * `email`, `secret`, `cpr`, `ssn` (`national_id` = `cpr,ssn`). Throws a message naming the bad word.
 */
export function parseRedactionRules(raw: string | undefined): RedactionRule[] {
  const words = (raw ?? '')
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  if (words.length === 0 || words.includes('all')) return [...REDACTION_RULES];
  if (words.length === 1 && words[0] === 'none') return [];
  const rules: RedactionRule[] = [];
  for (const word of words) {
    if (word === 'national_id') rules.push('cpr', 'ssn');
    else if ((REDACTION_RULES as readonly string[]).includes(word)) rules.push(word as RedactionRule);
    else {
      throw new Error(
        `LLM_REDACT must be all, none, or a comma-separated list of ${REDACTION_RULES.join(', ')}, national_id (got "${word}")`,
      );
    }
  }
  return rules;
}
