import { readFile } from 'node:fs/promises';
import { roleMatrix, roleMatrixMarkdown } from '#kernel/graphql/role-matrix.ts';
import { ROLE_MATRIX_FILE, sdlSources } from '../role-matrix.ts';

describe('role matrix', () => {
  it('has a role declaration for every operation and entity of every schema', async () => {
    const rows = roleMatrix(await sdlSources());
    expect(rows.length).toBeGreaterThan(15);
    expect(
      rows.filter((row) => row.roles === undefined).map((row) => `${row.source}: ${row.operation}`),
    ).toEqual([]);
  });

  it('is published, up to date, in docs/role-matrix.md', async () => {
    const expected = roleMatrixMarkdown(roleMatrix(await sdlSources()));
    expect(await readFile(ROLE_MATRIX_FILE, 'utf8')).toBe(expected);
  });

  it('reports an operation without a declaration', () => {
    const rows = roleMatrix([
      {
        source: 'x',
        sdl: 'type Query { open: Int @requiresRole(anyOf: ["Reader"]) forgotten: Int }',
      },
    ]);
    expect(rows.map((r) => [r.operation, r.roles])).toEqual([
      ['Query.forgotten', undefined],
      ['Query.open', ['Reader']],
    ]);
    expect(roleMatrixMarkdown(rows)).toContain('| `Query.forgotten` | x | **none** |');
  });

  it('refuses an unknown role name', () => {
    expect(() =>
      roleMatrix([{ source: 'x', sdl: 'type Query { a: Int @requiresRole(anyOf: ["Root"]) }' }]),
    ).toThrow('Query.a: @requiresRole names unknown role "Root"');
  });
});
