import { lexicalReranker } from '../../src/search/lexical-reranker.ts';
import type { RerankCandidate } from '../../src/search/reranker.ts';

const candidate = (id: string, text: string, headingPath = ''): RerankCandidate => ({
  id,
  text,
  headingPath,
  score: 0,
  keywordRank: null,
  vectorRank: null,
});

describe('lexicalReranker', () => {
  const reranker = lexicalReranker();

  it('orders by the question’s words, rarer ones weighing more', async () => {
    const candidates = [
      candidate('a', 'The system is a Debian system and the system boots.'),
      candidate('b', 'Packages are installed by the system administrator.'),
      candidate('c', 'The kernel reads the initramfs before it mounts the root file system.'),
    ];
    const out = await reranker.rerank(
      'Which file does the kernel read before mounting the root?',
      candidates,
    );
    // c holds kernel, reads, root; a and b hold none of the words and keep the order they came in.
    expect(out.map((c) => c.id)).toEqual(['c', 'a', 'b']);
    // "system" is in every candidate, "administrator" in one: the rarer word decides.
    const rare = await reranker.rerank('system administrator', candidates);
    expect(rare[0]!.id).toBe('b');
  });

  it('counts heading words, and keeps the given order when the words tell nothing apart', async () => {
    const candidates = [
      candidate('a', 'Edit the file and restart the service.', 'Apache › Configuration'),
      candidate('b', 'Edit the file and restart the service.', 'Samba › Shares'),
    ];
    expect((await reranker.rerank('samba shares', candidates)).map((c) => c.id)).toEqual(['b', 'a']);
    expect((await reranker.rerank('edit the file', candidates)).map((c) => c.id)).toEqual(['a', 'b']);
    expect((await reranker.rerank('the of and', candidates)).map((c) => c.id)).toEqual(['a', 'b']);
  });

  it('reads DEFAULT depth candidates unless told otherwise', () => {
    expect(reranker.name).toBe('lexical');
    expect(reranker.depth).toBe(100);
    expect(lexicalReranker({ depth: 7 }).depth).toBe(7);
  });
});
