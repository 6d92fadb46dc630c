// The price table: defaults per 1M tokens, prefix lookup of dated models, LLM_PRICES overrides, offline 0.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadGenerationsConfig } from '#llm/config.ts';
import { DEFAULT_PRICES, PriceTable, parsePrices } from '#llm/generations/prices.ts';

describe('PriceTable', () => {
  it('prices a call from its tokens per million, dated model names by their family', () => {
    const table = new PriceTable();
    // gpt-4o-mini: 0.15 in, 0.60 out per 1M
    expect(table.cost('openai', 'gpt-4o-mini', 1_000_000, 0)).toBe(0.15);
    expect(table.cost('openai', 'openai:gpt-4o-mini-2024-07-18', 2000, 1000)).toBeCloseTo(0.0009, 9);
    expect(table.cost('azure.ai.openai', 'gpt-4o', 1000, 1000)).toBeCloseTo(0.0125, 9);
    expect(table.cost('openai', 'text-embedding-3-small', 50_000, 0)).toBeCloseTo(0.001, 9);
  });

  it('costs nothing for offline providers and unknown models', () => {
    const table = new PriceTable();
    expect(table.cost('widgetdc.extractive', 'gpt-4o', 1000, 1000)).toBe(0);
    expect(table.cost('widgetdc.hashed', 'hashed-trigram-512', 1000, 0)).toBe(0);
    expect(table.cost('openai', 'llama3.1:8b', 1000, 1000)).toBe(0);
  });
});

describe('LLM_PRICES', () => {
  it('adds and overrides prices from JSON text or a file', () => {
    const prices = loadGenerationsConfig({
      LLM_PRICES: '{"llama3.1": {"input": 1, "output": 2}, "gpt-4o": {"input": 3, "output": 4}}',
    }).prices;
    expect(prices['gpt-4o-mini']).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(new PriceTable(prices).cost('openai', 'gpt-4o', 1_000_000, 1_000_000)).toBe(7);
    expect(new PriceTable(prices).cost('openai', 'llama3.1', 500_000, 0)).toBe(0.5);
    const file = join(mkdtempSync(join(tmpdir(), 'prices-')), 'prices.json');
    writeFileSync(file, '{"my-model": {"input": 10, "output": 20}}');
    expect(parsePrices(file)['my-model']).toEqual({ input: 10, output: 20 });
  });

  it('says what is wrong with a bad value', () => {
    expect(() => loadGenerationsConfig({ LLM_PRICES: '{"gpt-4o": {"input": -1, "output": 2}}' })).toThrow(
      /LLM_PRICES: "gpt-4o" must be \{"input": <USD per 1M tokens>, "output": <USD per 1M tokens>\}/,
    );
    expect(() => loadGenerationsConfig({ LLM_PRICES: '{not json' })).toThrow(/LLM_PRICES is not valid JSON/);
    expect(() => loadGenerationsConfig({ LLM_PRICES: '/no/such/prices.json' })).toThrow(
      /LLM_PRICES must be a JSON object or the path of a readable JSON file/,
    );
  });
});
