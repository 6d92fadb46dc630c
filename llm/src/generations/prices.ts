// Estimated cost of a call from its token counts (ADR 0037): US dollars per million input and output
// tokens, OpenAI's list prices for common models by default, overridable by LLM_PRICES. Offline
// providers (`widgetdc.*`) cost nothing; a model the table does not know costs 0 (and says so nowhere
// else: add it to LLM_PRICES).
import { readFileSync } from 'node:fs';

/** USD per 1,000,000 tokens. */
export interface ModelPrice {
  readonly input: number;
  readonly output: number;
}

/** OpenAI list prices (standard tier, USD per 1M tokens) of common models. */
export const DEFAULT_PRICES: Readonly<Record<string, ModelPrice>> = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4-turbo': { input: 10, output: 30 },
  'gpt-3.5-turbo': { input: 0.5, output: 1.5 },
  o1: { input: 15, output: 60 },
  'o3-mini': { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'text-embedding-3-small': { input: 0.02, output: 0 },
  'text-embedding-3-large': { input: 0.13, output: 0 },
  'text-embedding-ada-002': { input: 0.1, output: 0 },
};

/** Providers that run in-process and cost nothing. */
const OFFLINE_PROVIDER = /^widgetdc\./;

/** Prices by model; looks a model up exactly, then by its longest known prefix (`gpt-4o-mini-2024-07-18`). */
export class PriceTable {
  readonly #prices: ReadonlyMap<string, ModelPrice>;
  /** Known names, longest first, for prefix lookup. */
  readonly #names: readonly string[];

  constructor(prices: Readonly<Record<string, ModelPrice>> = DEFAULT_PRICES) {
    this.#prices = new Map(Object.entries(prices).map(([k, v]) => [k.toLowerCase(), v]));
    this.#names = [...this.#prices.keys()].sort((a, b) => b.length - a.length);
  }

  /** The price of `model` (`openai:gpt-4o-mini` or `gpt-4o-mini`), or undefined when unknown. */
  priceOf(model: string): ModelPrice | undefined {
    const name = model.replace(/^[a-z]+:/, '').toLowerCase();
    const exact = this.#prices.get(name);
    if (exact) return exact;
    const prefix = this.#names.find((n) => name.startsWith(`${n}-`));
    return prefix ? this.#prices.get(prefix) : undefined;
  }

  /** Estimated USD of a call; 0 for offline providers and unknown models. */
  cost(provider: string, model: string, inputTokens: number, outputTokens: number): number {
    if (OFFLINE_PROVIDER.test(provider)) return 0;
    const price = this.priceOf(model);
    if (!price) return 0;
    return round6((inputTokens * price.input + outputTokens * price.output) / 1_000_000);
  }
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

/**
 * The prices of an LLM_PRICES value merged over the defaults: JSON text
 * (`{"my-model": {"input": 0.5, "output": 1.5}}`) or the path of a file holding it. Throws a message
 * naming what is wrong.
 */
export function parsePrices(raw: string | undefined): Record<string, ModelPrice> {
  const value = raw?.trim() ?? '';
  if (value === '') return { ...DEFAULT_PRICES };
  let text = value;
  if (!value.startsWith('{')) {
    try {
      text = readFileSync(value, 'utf8');
    } catch {
      throw new Error(
        `LLM_PRICES must be a JSON object or the path of a readable JSON file (cannot read "${value}")`,
      );
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(
      'LLM_PRICES is not valid JSON: write {"model": {"input": <USD per 1M>, "output": <USD per 1M>}}',
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error('LLM_PRICES must be a JSON object of models: {"model": {"input": 0.5, "output": 1.5}}');
  }
  const prices: Record<string, ModelPrice> = { ...DEFAULT_PRICES };
  for (const [model, price] of Object.entries(parsed)) {
    const p = price as { input?: unknown; output?: unknown } | null;
    const ok = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;
    if (!p || !ok(p.input) || !ok(p.output)) {
      throw new Error(
        `LLM_PRICES: "${model}" must be {"input": <USD per 1M tokens>, "output": <USD per 1M tokens>}, both numbers ≥ 0`,
      );
    }
    prices[model] = { input: p.input as number, output: p.output as number };
  }
  return prices;
}
