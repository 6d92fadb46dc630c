import { readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { composeSupergraph, ROOT_DIR, SUPERGRAPH_FILE } from '../src/compose.ts';
import { SUBGRAPH_NAMES } from '../src/config.ts';
import { routingUrls } from '../src/gateway.ts';

/** supergraph.yaml's subgraphs, as rover reads them: name → routing URL and schema file. */
async function supergraphConfig(): Promise<
  Record<string, { routing_url: string; schema: { file: string } }>
> {
  const yaml = parseYaml(await readFile(join(ROOT_DIR, 'supergraph.yaml'), 'utf8')) as {
    subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
  };
  return yaml.subgraphs;
}

describe('composition', () => {
  it('composes supergraph.yaml into exactly the checked-in schema/supergraph.graphql', async () => {
    const composition = await composeSupergraph();
    if (!composition.ok) throw new Error(composition.errors.join('\n'));
    // On failure: run `npm run compose` and commit schema/supergraph.graphql.
    expect(composition.supergraphSdl).toBe(await readFile(SUPERGRAPH_FILE, 'utf8'));
  });

  it('routes each subgraph to its supergraph.yaml URL unless overridden', async () => {
    const sdl = await readFile(SUPERGRAPH_FILE, 'utf8');
    const configured = Object.entries(await supergraphConfig());
    expect(configured.length).toBeGreaterThan(1);
    const [overridden] = configured[0]!;
    const expected = Object.fromEntries(configured.map(([name, s]) => [name, s.routing_url]));
    expect(routingUrls(sdl, {})).toEqual(expected);
    expect(routingUrls(sdl, { [overridden]: 'http://elsewhere:1234/graphql' })).toEqual({
      ...expected,
      [overridden]: 'http://elsewhere:1234/graphql',
    });
  });

  it('reports composition errors instead of writing a broken supergraph', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wtdc-compose-'));
    try {
      // Two subgraphs that disagree on a field's type cannot compose.
      await writeFile(
        join(dir, 'a.graphql'),
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])\ntype Thing @key(fields: "id") @shareable { id: ID! size: Int }\ntype Query { a: Thing }\n',
      );
      await writeFile(
        join(dir, 'b.graphql'),
        'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])\ntype Thing @key(fields: "id") @shareable { id: ID! size: String }\ntype Query { b: Thing }\n',
      );
      await writeFile(
        join(dir, 'supergraph.yaml'),
        'federation_version: =2.14.4\nsubgraphs:\n  a: { routing_url: "http://a/graphql", schema: { file: ./a.graphql } }\n  b: { routing_url: "http://b/graphql", schema: { file: ./b.graphql } }\n',
      );
      const composition = await composeSupergraph(join(dir, 'supergraph.yaml'));
      expect(composition.ok).toBe(false);
      expect(composition.ok ? [] : composition.errors.join('\n')).toMatch(/Thing\.size/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('lists every subgraph folder in supergraph.yaml, under its own name and schema, and the gateway routes to each', async () => {
    const folders = readdirSync(join(ROOT_DIR, 'subgraphs')).sort();
    const configured = await supergraphConfig();
    expect(Object.keys(configured).sort()).toEqual(folders);
    for (const name of folders)
      expect(configured[name]!.schema.file).toBe(`./subgraphs/${name}/schema.graphql`);
    expect([...SUBGRAPH_NAMES].sort()).toEqual(folders);
  });
});
