import { setTimeout as sleep } from 'node:timers/promises';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  isRetryableStatus,
  retryDelayMs,
} from '#llm/retry.ts';
import { type Embedder, EmbeddingError, normalise } from './embedder.ts';

/** Options of {@link OpenAiEmbedder}. */
export interface OpenAiEmbedderOptions {
  /**
   * Base URL: OpenAI-compatible (`https://api.openai.com/v1`, requests go to `<base>/embeddings`)
   * or an Azure OpenAI deployment (`https://<res>.openai.azure.com/openai/deployments/<name>?api-version=…`).
   */
  endpoint: string;
  apiKey?: string;
  model: string;
  dimensions: number;
  batchSize: number;
  timeoutMs: number;
  maxRetries: number;
  /** First backoff between attempts (doubles); a 429's Retry-After replaces it. */
  backoffMs?: number;
  /** Longest wait honoured from a Retry-After header. */
  maxRetryAfterMs?: number;
  /** How to wait between attempts (tests record the waits instead of timing them). */
  sleep?: (ms: number) => Promise<unknown>;
}

/**
 * An OpenAI-compatible embeddings client (OpenAI, Azure OpenAI, vLLM, Ollama, LiteLLM…): batched
 * requests, a timeout per request, retries with exponential backoff on 429/5xx/network errors that
 * honour `Retry-After`, and a check that every vector has the configured dimensions.
 */
export class OpenAiEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  readonly #o: Required<OpenAiEmbedderOptions>;
  readonly #url: URL;
  readonly #azure: boolean;
  /** Requests sent (attempts included), for tests and progress. */
  requests = 0;

  constructor(options: OpenAiEmbedderOptions) {
    this.#o = {
      backoffMs: DEFAULT_BACKOFF_MS,
      maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
      apiKey: '',
      sleep,
      ...options,
    };
    this.model = `openai:${options.model}`;
    this.dimensions = options.dimensions;
    const base = new URL(options.endpoint);
    this.#azure = base.pathname.includes('/openai/deployments/');
    this.#url = new URL(`${base.pathname.replace(/\/+$/, '')}/embeddings${base.search}`, base);
  }

  async embed(texts: readonly string[]): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.#o.batchSize) {
      out.push(...(await this.#batch(texts.slice(i, i + this.#o.batchSize))));
    }
    return out;
  }

  async #batch(input: readonly string[]): Promise<number[][]> {
    let lastError = '';
    for (let attempt = 0; attempt <= this.#o.maxRetries; attempt++) {
      let wait = retryDelayMs(attempt, this.#o);
      try {
        this.requests++;
        const response = await fetch(this.#url, {
          method: 'POST',
          headers: this.#headers(),
          body: JSON.stringify({
            model: this.#o.model,
            input,
            dimensions: this.dimensions,
            encoding_format: 'float',
          }),
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
        if (response.ok) return this.#vectors(await response.json(), input.length);
        const body = (await response.text()).replace(/\s+/g, ' ').slice(0, 300);
        lastError = `HTTP ${response.status} from ${this.#url.origin}: ${body}`;
        if (!isRetryableStatus(response.status))
          throw new EmbeddingError(`embeddings request refused: ${lastError}`);
        wait = retryDelayMs(attempt, this.#o, response.headers.get('retry-after'));
      } catch (error) {
        if (error instanceof EmbeddingError) throw error;
        lastError =
          (error as Error).name === 'TimeoutError'
            ? `no answer from ${this.#url.origin} within ${this.#o.timeoutMs} ms`
            : `${this.#url.origin} unreachable: ${(error as Error).message}`;
      }
      if (attempt < this.#o.maxRetries) await this.#o.sleep(wait);
    }
    throw new EmbeddingError(`embeddings failed after ${this.#o.maxRetries + 1} attempts: ${lastError}`);
  }

  #headers(): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#o.apiKey) {
      if (this.#azure) headers['api-key'] = this.#o.apiKey;
      else headers.authorization = `Bearer ${this.#o.apiKey}`;
    }
    return headers;
  }

  #vectors(body: unknown, expected: number): number[][] {
    const data = (body as { data?: { index?: number; embedding?: unknown }[] })?.data;
    if (!Array.isArray(data) || data.length !== expected) {
      throw new EmbeddingError(
        `embeddings answer holds ${Array.isArray(data) ? data.length : 'no'} vectors for ${expected} texts`,
      );
    }
    const sorted = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
    return sorted.map(({ embedding }) => {
      if (!Array.isArray(embedding) || !embedding.every((x) => typeof x === 'number' && Number.isFinite(x))) {
        throw new EmbeddingError('embeddings answer holds a vector that is not a list of numbers');
      }
      if (embedding.length !== this.dimensions) {
        throw new EmbeddingError(
          `model ${this.#o.model} returned ${embedding.length}-dimensional vectors; EMBEDDINGS_DIMENSIONS is ${this.dimensions}`,
        );
      }
      return normalise(embedding as number[]);
    });
  }
}
