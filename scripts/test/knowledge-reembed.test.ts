// npm run knowledge:reembed: every tenant's chunks move to the configured model, with progress and a
// summary; bad arguments and a model of another size are refused with what to do.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { useIngestSuite } from '../../subgraphs/knowledge/test/support.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const suite = useIngestSuite();

function reembed(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(
      join(ROOT, 'node_modules', '.bin', 'node'),
      ['scripts/knowledge-reembed.ts', ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: suite.db.appUrl, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const models = (tenantId: string) =>
  withTenant(suite.orm, tenantId, (em) =>
    em.execute<{ embedding_model: string; n: number }[]>(
      'select embedding_model, count(*)::int as n from knowledge.chunks group by 1',
    ),
  );

describe('npm run knowledge:reembed', () => {
  it('refuses a bad batch size and a model whose size differs from the column', async () => {
    const batch = await reembed(['--batch', '0'], { EMBEDDINGS_PROVIDER: 'use' });
    expect(batch.code).toBe(1);
    expect(batch.stderr).toContain('--batch must be a whole number from 1 to 2048 (got "0")');
    const size = await reembed([], { EMBEDDINGS_PROVIDER: 'hashed', EMBEDDINGS_DIMENSIONS: '256' });
    expect(size.code).toBe(1);
    expect(size.stderr).toContain(
      'the embedder hashed-trigram-256 makes 256-dimensional vectors but knowledge.chunks.embedding is vector(512)',
    );
  });

  it("moves every tenant's chunks to the configured model, with progress and a summary", async () => {
    const alice = await suite.identity('acme', 'alice', ['Contributor']);
    const bob = await suite.identity('globex', 'bob', ['Contributor']);
    const a = await suite.ingest(alice, {
      title: 'A',
      text: '# A\n\nOne.\n\n# B\n\nTwo.',
      mimeType: 'text/markdown',
    });
    const b = await suite.ingest(bob, { title: 'C', text: 'Three.' });
    expect((await suite.finished(alice, a)).status).toBe('READY');
    expect((await suite.finished(bob, b)).status).toBe('READY');
    const { code, stdout, stderr } = await reembed(['--batch', '1'], { EMBEDDINGS_PROVIDER: 'use' });
    expect(stderr).toContain(`tenant ${alice.tenantId}: 1/2 chunks staged`);
    expect(stderr).toContain(`tenant ${alice.tenantId}: 2/2 chunks staged`);
    expect(stdout).toContain('re-embedding into use-lite-512: 2 tenant(s), 3 chunk(s) on other models');
    expect(stdout).toMatch(/done in [\d.]+ s: 3 chunk\(s\) now on use-lite-512/);
    expect(stdout).toContain(`tenant ${bob.tenantId}: 1 chunk(s) switched, 0 written meanwhile`);
    expect(code).toBe(0);
    expect(await models(alice.tenantId)).toEqual([{ embedding_model: 'use-lite-512', n: 2 }]);
    expect(await models(bob.tenantId)).toEqual([{ embedding_model: 'use-lite-512', n: 1 }]);
    // Nothing left: a second run has nothing to do.
    const again = await reembed([], { EMBEDDINGS_PROVIDER: 'use' });
    expect(again.stdout).toContain('re-embedding into use-lite-512: 0 tenant(s), 0 chunk(s) on other models');
  }, 120_000);
});
