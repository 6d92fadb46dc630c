import type { Block } from '../../src/ingest/blocks.ts';
import { chunkBlocks } from '../../src/ingest/chunker.ts';
import { countTokens } from '../../src/ingest/tokens.ts';

const sentence = (n: number) => `Sentence number ${n} has exactly eight tokens.`;

describe('structure-aware chunker', () => {
  it('keeps heading paths and never merges sections', () => {
    const blocks: Block[] = [
      { kind: 'heading', level: 1, text: 'Server Configuration' },
      { kind: 'paragraph', text: 'Intro.' },
      { kind: 'heading', level: 2, text: 'Connections' },
      { kind: 'heading', level: 3, text: 'port' },
      { kind: 'paragraph', text: 'The port is 5432.' },
      { kind: 'code', text: 'listen 5432' },
      { kind: 'heading', level: 2, text: 'Logging' },
      { kind: 'list', text: '- a\n- b' },
    ];
    const chunks = chunkBlocks(blocks, { maxTokens: 64, overlapTokens: 8 });
    expect(chunks.map((c) => [c.headingPath, c.content])).toEqual([
      ['Server Configuration', 'Intro.'],
      ['Server Configuration › Connections › port', 'The port is 5432.\n\nlisten 5432'],
      ['Server Configuration › Logging', '- a\n- b'],
    ]);
    expect(chunks.map((c) => c.ordinal)).toEqual([0, 1, 2]);
  });

  it('splits long sections at sentences with overlap, within the size, deterministically', () => {
    const paragraph = Array.from({ length: 30 }, (_, i) => sentence(i)).join(' ');
    const blocks: Block[] = [{ kind: 'paragraph', text: paragraph, page: 3 }];
    const chunks = chunkBlocks(blocks, { maxTokens: 40, overlapTokens: 8 });
    expect(chunks.length).toBeGreaterThan(6);
    for (const chunk of chunks) {
      expect(chunk.tokenCount).toBeLessThanOrEqual(40);
      expect(countTokens(chunk.content)).toBe(chunk.tokenCount);
      expect(chunk.page).toBe(3);
    }
    // The last sentence of one chunk opens the next (8 tokens of overlap).
    for (let i = 1; i < chunks.length; i++) {
      const previous = chunks[i - 1]!.content.split(/(?<=\.) /);
      expect(chunks[i]!.content.startsWith(previous.at(-1)!)).toBe(true);
    }
    expect(chunkBlocks(blocks, { maxTokens: 40, overlapTokens: 8 })).toEqual(chunks);
    const joined = new Set(chunks.flatMap((c) => c.content.split(/(?<=\.) /)));
    expect(joined.size).toBe(30);
  });

  it('splits tables, lists and code at lines and one huge line at tokens', () => {
    const table = Array.from({ length: 20 }, (_, i) => `row ${i} | value ${i}`).join('\n');
    const chunks = chunkBlocks([{ kind: 'table', text: table }], { maxTokens: 30, overlapTokens: 0 });
    expect(
      chunks.every((c) => c.content.split('\n').every((line) => /^row \d+ \| value \d+$/.test(line))),
    ).toBe(true);
    expect(chunks.map((c) => c.content).join('\n')).toBe(table);
    const word = Array.from({ length: 100 }, (_, i) => `w${i}`).join(' ');
    const pieces = chunkBlocks([{ kind: 'paragraph', text: word }], { maxTokens: 32, overlapTokens: 0 });
    expect(pieces.map((c) => c.tokenCount)).toEqual([32, 32, 32, 4]);
  });

  it('rejects nonsensical sizes', () => {
    expect(() => chunkBlocks([], { maxTokens: 4, overlapTokens: 0 })).toThrow(/at least 16 tokens/);
    expect(() => chunkBlocks([], { maxTokens: 64, overlapTokens: 40 })).toThrow(/under half/);
  });
});
