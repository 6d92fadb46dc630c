import { ESCAPED_MARKER, fitText, hasUnstorable, safeText, summarizeInput } from '#kernel/audit/redact.ts';

describe('safeText', () => {
  it('keeps ordinary text, control characters and surrogate pairs as they are', () => {
    for (const text of ['plain', '\u0001\u001f\u007f\u0085', '\u202eabc\u200b', 'emoji 😀', 'back\\slash']) {
      expect(safeText(text)).toBe(text);
    }
  });

  it.each([
    ['NUL', 'a\u0000b', 'a\\u0000b'],
    ['a lone high surrogate', 'a\ud800b', 'a\\ud800b'],
    ['a lone low surrogate', '\udc00b', '\\udc00b'],
    ['a reversed pair', '\udc00\ud800', '\\udc00\\ud800'],
    ['NUL beside a backslash (doubled, so unambiguous)', '\\u0000\u0000', '\\\\u0000\\u0000'],
  ])('escapes %s and marks the string', (_what, input, escaped) => {
    const out = safeText(input);
    expect(out).toBe(`${escaped}${ESCAPED_MARKER}`);
    expect(hasUnstorable(out)).toBe(false);
  });

  it('cuts long strings at a code point, marked with the original length', () => {
    const text = `${'a'.repeat(199)}😀😀`;
    const out = safeText(text, 200);
    expect(out).toBe(`${'a'.repeat(199)}…[203 chars]`);
    expect(hasUnstorable(out)).toBe(false);
  });

  it('fits a rendering, markers included, within a column bound', () => {
    for (const text of ['\u0000'.repeat(500), 'x'.repeat(10_000), `${'\ud800'.repeat(80)}`]) {
      const out = fitText(text, 64);
      expect(out.length).toBeLessThanOrEqual(64);
      expect(hasUnstorable(out)).toBe(false);
    }
  });
});

describe('summarizeInput', () => {
  it('renders every string, key and non-JSON value storably', () => {
    const summary = summarizeInput({
      'k\u0000': 'v\ud800',
      when: new Date('2026-01-01T00:00:00.000Z'),
      bad: new Date(Number.NaN),
      n: Number.POSITIVE_INFINITY,
      big: 10n,
      password: 'hunter2',
    });
    expect(summary).toEqual({
      [`k\\u0000${ESCAPED_MARKER}`]: `v\\ud800${ESCAPED_MARKER}`,
      when: '2026-01-01T00:00:00.000Z',
      bad: '[invalid date]',
      n: '[Infinity]',
      big: '[bigint 10]',
      password: '[redacted]',
    });
  });

  it('bounds the whole summary, however wide and deep the input', () => {
    const wide = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [
        `k${i}`,
        Array.from({ length: 20 }, () => Array.from({ length: 20 }, () => 'x'.repeat(500))),
      ]),
    );
    expect(JSON.stringify(summarizeInput(wide)).length).toBeLessThan(8_000);
  });
});
