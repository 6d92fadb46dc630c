import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Kind, parse } from 'graphql';
import { SHARED_ENUMS } from '#contracts/enums.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const SCHEMAS = [
  ...readdirSync(join(ROOT, 'subgraphs')).map((name) => join('subgraphs', name, 'schema.graphql')),
  join('gateway', 'schema', 'subscriptions.graphql'),
];

/** Every enum declared in a schema file: name → values, in declaration order. */
function enumsOf(file: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const definition of parse(readFileSync(join(ROOT, file), 'utf8')).definitions) {
    if (definition.kind === Kind.ENUM_TYPE_DEFINITION) {
      out.set(
        definition.name.value,
        (definition.values ?? []).map((v) => v.name.value),
      );
    }
  }
  return out;
}

describe('enums shared across schemas', () => {
  const declared = SCHEMAS.flatMap((file) =>
    [...enumsOf(file)].map(([name, values]) => ({ file, name, values })),
  );

  it('every SDL enum of a shared name has exactly the values of contracts/src/enums.ts', () => {
    const mismatches = declared
      .filter(({ name }) => Object.hasOwn(SHARED_ENUMS, name))
      .filter(({ name, values }) => JSON.stringify(values) !== JSON.stringify(SHARED_ENUMS[name]))
      .map(
        ({ file, name, values }) =>
          `${file}: enum ${name} { ${values.join(' ')} }, expected { ${SHARED_ENUMS[name]?.join(' ')} }`,
      );
    expect(mismatches).toEqual([]);
  });

  it('every shared enum is declared by some schema (a rename cannot slip past the check)', () => {
    const names = new Set(declared.map((d) => d.name));
    expect(Object.keys(SHARED_ENUMS).filter((name) => !names.has(name))).toEqual([]);
  });

  it('shared enums are declared more than once, which is why they are checked', () => {
    const counts = declared.filter(({ name }) => Object.hasOwn(SHARED_ENUMS, name)).length;
    expect(counts).toBeGreaterThan(Object.keys(SHARED_ENUMS).length);
  });
});
