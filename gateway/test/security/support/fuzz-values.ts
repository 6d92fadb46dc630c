// Hostile values for the fuzz suite, drawn by a seeded generator so that a run can be repeated.

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same run. */
export class Random {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One item of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }

  /** `n` distinct items of `items` (all of them when there are fewer). */
  sample<T>(items: readonly T[], n: number): T[] {
    const pool = [...items];
    const out: T[] = [];
    while (out.length < n && pool.length > 0) out.push(pool.splice(this.int(pool.length), 1)[0] as T);
    return out;
  }

  /** `n` random bytes. */
  bytes(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, () => this.int(256)));
  }
}

/** A hostile value and what it is, for the report. */
export interface Hostile {
  name: string;
  /** The value as JSON would carry it; `raw` instead when JSON.stringify cannot spell it. */
  value: unknown;
  /** JSON text to put in the body verbatim (numbers JSON.stringify cannot write: 1e400, -0). */
  raw?: string;
}

const v = (name: string, value: unknown): Hostile => ({ name, value });
const raw = (name: string, text: string): Hostile => ({ name, value: undefined, raw: text });

/** Strings every text argument gets: control characters, surrogates, sizes, encodings. */
export function hostileStrings(random: Random): Hostile[] {
  return [
    v('empty', ''),
    v('NUL', 'a\u0000b'),
    v('only NUL', '\u0000'),
    v('lone high surrogate', 'x\uD800y'),
    v('lone low surrogate', '\uDC00tail'),
    v('reversed pair', '\uDC00\uD800'),
    v('C0 controls', Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)).join('')),
    v('DEL and C1 controls', '\u007f\u0080\u0085\u009b\u009f'),
    v('bidi and zero-width', '\u202eevil\u202c\u200b\u2066\ufeff'),
    v('backslash escapes', '\\u0000\\x00\\\\'),
    v('astral split at 200', `${'a'.repeat(199)}😀😀`),
    v('oversized 300 kB', 'Z'.repeat(300_000)),
    v('oversized NUL-filled 100 kB', '\u0000'.repeat(100_000)),
    v('random bytes as latin1', random.bytes(64).toString('latin1')),
    v('random bytes as utf-16', random.bytes(64).toString('utf16le')),
    v('SQL', "'; select pg_sleep(0); --"),
    v('format string', '%s%n%x%d'.repeat(20)),
    v('path traversal', '../../../../etc/passwd'),
  ];
}

/** Identifiers where a UUID is expected: near misses, other encodings, random bytes. */
export function hostileIds(random: Random): Hostile[] {
  return [
    v('uuid in braces', '{00000000-0000-4000-8000-000000000000}'),
    v('uuid without dashes', '000000000000400080000000000000000'),
    v('uuid with NUL', '00000000-0000-4000-8000-00000000000\u0000'),
    v('uuid with surrogate', '00000000-0000-4000-8000-00000000000\uD800'),
    v('uppercase nil uuid', '00000000-0000-0000-0000-000000000000'),
    v('max uuid', 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'),
    v('integer id', 12345),
    v('huge integer id', 1e21),
    v('negative id', -1),
    v('random bytes hex', random.bytes(16).toString('hex')),
    v('random bytes base64', random.bytes(24).toString('base64')),
    v('oversized id', 'f'.repeat(100_000)),
  ];
}

const b64 = (text: string | Buffer) => Buffer.from(text).toString('base64url');

/** Cursors: random bytes, wrong alphabets, valid base64 of garbage or of near-valid keysets. */
export function hostileCursors(random: Random): Hostile[] {
  return [
    v('random bytes', random.bytes(32).toString('latin1')),
    v('random bytes base64url', b64(random.bytes(48))),
    v('standard base64 with padding', random.bytes(20).toString('base64')),
    v('not base64 at all', '!!!***%%%'),
    v('base64 of garbage text', b64('hello world')),
    v('base64 of a keyset with a bad uuid', b64('2026-01-01T00:00:00.000Z|not-a-uuid')),
    v('base64 of a keyset with a 36-char non-uuid', b64(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)),
    v(
      'base64 of a keyset in year 99999',
      b64('+099999-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000'),
    ),
    v('base64 of a keyset in year 0', b64('0000-01-01T00:00:00.000Z|00000000-0000-4000-8000-000000000000')),
    v('base64 of a keyset with a number date', b64('99999999999999|00000000-0000-4000-8000-000000000000')),
    v('base64 of NUL bytes', b64(Buffer.alloc(30))),
    v('base64 of a lone surrogate keyset', b64('\uD800|\uDC00')),
    v('oversized cursor', 'A'.repeat(50_000)),
    v('cursor as a number', 42),
  ];
}

/** Int arguments: past 32 bits, fractions, non-numbers, numbers JSON cannot carry. */
export function hostileInts(): Hostile[] {
  return [
    v('2^31', 2 ** 31),
    v('-2^31 - 1', -(2 ** 31) - 1),
    v('max safe integer', Number.MAX_SAFE_INTEGER),
    v('1e308', 1e308),
    v('5e-324', 5e-324),
    v('zero', 0),
    v('negative', -5),
    v('fraction', 1.5),
    v('numeric string', '5'),
    v('boolean', true),
    raw('1e400 (infinite)', '1e400'),
    raw('-0', '-0'),
    raw('40-digit integer', '1234567890123456789012345678901234567890'),
  ];
}

/** DateTime arguments: extreme and impossible dates, wrong types, sizes. */
export function hostileDates(): Hostile[] {
  return [
    v('year 0', '0000-01-01T00:00:00.000Z'),
    v('year 99999', '99999-01-01T00:00:00.000Z'),
    v('expanded year +275760', '+275760-09-13T00:00:00.000Z'),
    v('past the Date range', '+275760-09-13T00:00:00.001Z'),
    v('negative expanded year', '-271821-04-20T00:00:00.000Z'),
    v('February 30th', '2026-02-30T00:00:00.000Z'),
    v('month 13', '2026-13-01T00:00:00.000Z'),
    v('hour 25', '2026-11-25T25:00:00.000Z'),
    v('no time zone', '2026-11-25T18:00:00'),
    v('date only', '2026-11-25'),
    v('trailing garbage', '2026-11-25T18:00:00.000Zjunk'),
    v('epoch milliseconds', 1_764_000_000_000),
    v('huge number', 1e300),
    v('empty', ''),
    v('oversized', `2026-11-25T${'9'.repeat(100_000)}`),
    v('NUL inside', '2026-11-25T18:00:00\u0000Z'),
  ];
}

/** Values of the wrong kind for enums, booleans and input objects. */
export function hostileOthers(): Hostile[] {
  return [
    v('null', null),
    v('array', ['x']),
    v('object', { a: 1 }),
    v('nested deep object', JSON.parse(`${'{"a":'.repeat(60)}1${'}'.repeat(60)}`)),
    v('lowercase enum', 'high'),
    v('number', 7),
  ];
}
