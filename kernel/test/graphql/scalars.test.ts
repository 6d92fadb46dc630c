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
