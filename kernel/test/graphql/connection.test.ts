import { ValidationError } from '#kernel/errors.ts';
import {
  decodeCursor,
  encodeCursor,
  MAX_PAGE_SIZE,
  parsePageArgs,
  toConnection,
} from '#kernel/graphql/connection.ts';

const key = { at: new Date('2026-11-25T18:00:00.123Z'), id: '3f1c2b9e-6d1a-4c3e-9f00-1234567890ab' };

describe('Relay connections', () => {
  it('round-trips a cursor', () => {
    expect(decodeCursor(encodeCursor(key))).toEqual(key);
  });

  it.each([
    '',
    'garbage',
    Buffer.from('2026-11-25T18:00:00Z|not-a-uuid').toString('base64url'),
    'x'.repeat(500),
    // Valid base64 of garbage, and of keysets PostgreSQL would refuse as a timestamp or a uuid:
    Buffer.from('hello world').toString('base64url'),
    Buffer.from(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`).toString('base64url'),
    Buffer.from('0000-01-01T00:00:00.000Z|3f1c2b9e-6d1a-4c3e-9f00-1234567890ab').toString('base64url'),
    Buffer.from('+099999-01-01T00:00:00.000Z|3f1c2b9e-6d1a-4c3e-9f00-1234567890ab').toString('base64url'),
    Buffer.from('2026-02-30T00:00:00.000Z|3f1c2b9e-6d1a-4c3e-9f00-1234567890ab').toString('base64url'),
    Buffer.from('99999999999|3f1c2b9e-6d1a-4c3e-9f00-1234567890ab').toString('base64url'),
    Buffer.alloc(30).toString('base64url'),
    // Random bytes, and base64 in the wrong alphabet:
    Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x7f]).toString('latin1'),
    Buffer.from('2026-11-25T18:00:00.123Z|3f1c2b9e-6d1a-4c3e-9f00-1234567890ab').toString('base64'),
  ])('refuses the cursor %j with a message that says where cursors come from', (cursor) => {
    expect(() => parsePageArgs({ after: cursor || 'Zm9v' })).toThrow(/use a cursor returned by this list/);
  });

  it.each([0, -1, MAX_PAGE_SIZE + 1, 2.5])('refuses first = %p, naming the allowed range', (first) => {
    expect(() => parsePageArgs({ first })).toThrow(
      new ValidationError(`first must be between 1 and ${MAX_PAGE_SIZE} (got ${first})`),
    );
  });

  it('signals a next page only when an extra row came back', () => {
    const rows = [1, 2, 3].map((n) => ({ n, ...key }));
    const page = parsePageArgs({ first: 2 });
    const connection = toConnection(rows, page, (r) => r);
    expect(connection.edges.map((e) => e.node.n)).toEqual([1, 2]);
    expect(connection.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(toConnection(rows.slice(0, 2), page, (r) => r).pageInfo.hasNextPage).toBe(false);
  });
});
