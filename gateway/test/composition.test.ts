import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeSupergraph, ROOT_DIR, SUPERGRAPH_FILE } from '../src/compose.ts';
import { routingUrls } from '../src/gateway.ts';

describe('composition', () => {
  it('composes supergraph.yaml into exactly the checked-in schema/supergraph.graphql', async () => {
    const composition = await composeSupergraph();
    if (!composition.ok) throw new Error(composition.errors.join('\n'));
    // On failure: run `npm run compose` and commit schema/supergraph.graphql.
    expect(composition.supergraphSdl).toBe(await readFile(SUPERGRAPH_FILE, 'utf8'));
  });

  it('routes each subgraph to its supergraph.yaml URL unless overridden', async () => {
    const sdl = await readFile(SUPERGRAPH_FILE, 'utf8');
    expect(routingUrls(sdl, { agent: 'http://agent:4002/graphql' })).toEqual({
      knowledge: 'http://localhost:4001/graphql',
      agent: 'http://agent:4002/graphql',
      governance: 'http://localhost:4003/graphql',
      audit: 'http://localhost:4004/graphql',
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

  it('lists every subgraph folder in supergraph.yaml', async () => {
    const yaml = await readFile(join(ROOT_DIR, 'supergraph.yaml'), 'utf8');
    for (const name of ['knowledge', 'agent', 'governance', 'audit']) {
      expect(yaml).toContain(`file: ./subgraphs/${name}/schema.graphql`);
    }
  });
});
