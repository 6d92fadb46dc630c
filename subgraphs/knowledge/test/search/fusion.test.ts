import { fuse } from '../../src/search/fusion.ts';

const ids = (...names: string[]) => names.map((id) => ({ id }));

describe('reciprocal rank fusion', () => {
  it('adds weight / (k + rank) per list and reports each list’s rank', () => {
    const fused = fuse(ids('a', 'b', 'c'), ids('c', 'a', 'd'), { k: 60, keywordWeight: 1, vectorWeight: 1 });
    expect(fused.map((h) => h.id)).toEqual(['a', 'c', 'b', 'd']);
    expect(fused[0]).toEqual({ id: 'a', score: 1 / 61 + 1 / 62, keywordRank: 1, vectorRank: 2 });
    expect(fused.find((h) => h.id === 'd')).toEqual({
      id: 'd',
      score: 1 / 63,
      keywordRank: null,
      vectorRank: 3,
    });
  });

  it('weights move the balance and a weight of 0 silences a list', () => {
    const vectorHeavy = fuse(ids('a', 'b'), ids('b', 'a'), { k: 60, keywordWeight: 1, vectorWeight: 2 });
    expect(vectorHeavy[0]!.id).toBe('b');
    const keywordOnly = fuse(ids('a'), ids('z'), { k: 60, keywordWeight: 1, vectorWeight: 0 });
    expect(keywordOnly.map((h) => [h.id, h.score])).toEqual([
      ['a', 1 / 61],
      ['z', 0],
    ]);
  });

  it('breaks ties by the better single rank, then by id, and counts a duplicate once', () => {
    const fused = fuse(ids('x', 'x', 'y'), ids('y', 'x'), { k: 1, keywordWeight: 1, vectorWeight: 1 });
    // x: 1/2 + 1/3; y: 1/4 + 1/2 (its keyword rank is 3: the duplicate x kept rank 2)
    expect(fused.map((h) => [h.id, h.keywordRank, h.vectorRank])).toEqual([
      ['x', 1, 2],
      ['y', 3, 1],
    ]);
    const tied = fuse(ids('b'), ids('a'), { k: 60, keywordWeight: 1, vectorWeight: 1 });
    expect(tied.map((h) => h.id)).toEqual(['a', 'b']);
  });
});
