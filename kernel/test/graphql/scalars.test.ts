import { parseValue } from 'graphql';
import { DateTimeScalar, JSONObjectScalar } from '#kernel/graphql/scalars.ts';

describe('DateTime', () => {
  it('parses an ISO string and refuses anything else with the expected shape', () => {
    expect(DateTimeScalar.parseValue('2026-11-25T18:00:00Z')).toEqual(new Date('2026-11-25T18:00:00Z'));
    expect(() => DateTimeScalar.parseValue('yesterday')).toThrow(/ISO 8601/);
  });
});

describe('JSONObject', () => {
  it('accepts nested JSON from variables and from literals', () => {
    const value = { to: 'ops@example.com', n: 2, tags: ['a', { b: true }], none: null };
    expect(JSONObjectScalar.parseValue(value)).toEqual(value);
    expect(
      JSONObjectScalar.parseLiteral(parseValue('{to: "x", list: [1, 2.5, false], inner: {v: $v}}'), {
        v: 'y',
      }),
    ).toEqual({
      to: 'x',
      list: [1, 2.5, false],
      inner: { v: 'y' },
    });
  });

  it.each([
    ['a string', 'text', /must be a JSON object \(got string\)/],
    ['an array', [1], /must be a JSON object \(got an array\)/],
    ['a NUL in a value', { a: { b: 'x\u0000y' } }, /JSONObject\.a\.b holds a NUL/],
    ['a lone surrogate in a key', { ['\ud800']: 1 }, /key holds a lone UTF-16 surrogate/],
    ['an infinite number', { n: Number.POSITIVE_INFINITY }, /JSONObject\.n is not a finite number/],
    ['a function', { f: () => 1 }, /JSONObject\.f is not a JSON value/],
  ])('refuses %s, naming where', (_what, value, message) => {
    expect(() => JSONObjectScalar.parseValue(value)).toThrow(message);
  });

  it('bounds depth and key count', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 20; i++) deep = { d: deep };
    expect(() => JSONObjectScalar.parseValue(deep)).toThrow(/nests deeper than 16 levels/);
    const wide = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`k${i}`, i]));
    expect(() => JSONObjectScalar.parseValue(wide)).toThrow(/more than 1000 keys/);
  });
});

describe('DateTime edge cases', () => {
  it.each([
    ['year 0', '0000-01-01T00:00:00.000Z', /year must be between 0001 and 9999/],
    ['year 99999', '99999-01-01T00:00:00.000Z', /a zone/],
    ['an expanded year', '+275760-09-13T00:00:00.000Z', /a zone/],
    ['February 30th', '2026-02-30T00:00:00.000Z', /that month has 28 days/],
    ['February 29th of a common year', '2027-02-29T00:00:00Z', /28 days/],
    ['month 13', '2026-13-01T00:00:00.000Z', /out of range/],
    ['hour 24', '2026-11-25T24:00:00.000Z', /out of range/],
    ['no zone', '2026-11-25T18:00:00', /a zone/],
    ['a date only', '2026-11-25', /a zone/],
    ['trailing text', '2026-11-25T18:00:00Zjunk', /a zone/],
    ['a NUL inside', '2026-11-25T18:00:00\u0000Z', /a zone/],
    ['a huge string', `2026-11-25T${'9'.repeat(100_000)}`, /longer than 40 characters/],
    ['a number', 1_764_000_000_000, /not a string/],
    ['an object', { y: 2026 }, /not a string/],
  ])('refuses %s as BAD_USER_INPUT naming why', (_what, value, why) => {
    let error: unknown;
    try {
      DateTimeScalar.parseValue(value);
    } catch (e) {
      error = e;
    }
    expect((error as { extensions?: { code?: string } }).extensions?.code).toBe('BAD_USER_INPUT');
    expect(String((error as Error).message)).toMatch(why);
  });

  it('accepts leap days, zone offsets, fractions and the range ends', () => {
    expect(DateTimeScalar.parseValue('2028-02-29T00:00:00Z')).toEqual(new Date('2028-02-29T00:00:00Z'));
    expect(DateTimeScalar.parseValue('2026-11-25T19:00:00.123456+01:00')).toEqual(
      new Date('2026-11-25T18:00:00.123Z'),
    );
    expect(DateTimeScalar.parseValue('0001-01-01T00:00:00Z').getUTCFullYear()).toBe(1);
    expect(DateTimeScalar.parseValue('9999-12-31T23:59:59.999Z').getUTCFullYear()).toBe(9999);
  });
});
