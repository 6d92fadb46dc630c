import { z } from 'zod';
import { readEnv } from '#kernel/config/env.ts';
import { ConfigError } from '#kernel/errors.ts';
import { type GenerationsConfig, generationsSchema, type LlmConfig, llmSchema } from '#llm/config.ts';
import { DEFAULT_CHUNK_OVERLAP_TOKENS, DEFAULT_CHUNK_TOKENS } from './ingest/chunker.ts';

/** Default port of the knowledge subgraph. */
export const DEFAULT_PORT = 4001;
/** Largest document accepted by default: 20 MiB. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;
/** Largest streamed upload (`POST /documents`) accepted by default: 100 MiB. */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/** Most pages a PDF may have by default. */
export const DEFAULT_MAX_PDF_PAGES = 5000;
/** Most bytes a DOCX may inflate to by default (zip-bomb guard): 200 MiB. */
export const DEFAULT_MAX_DOCX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024;
/** Most files inside a DOCX by default. */
export const DEFAULT_MAX_DOCX_ENTRIES = 2000;
/** Dimensions of the default embedder (Universal Sentence Encoder lite) and of the chunks' column. */
export const DEFAULT_EMBEDDING_DIMENSIONS = 512;
/** Texts per embeddings request to a remote provider. */
export const DEFAULT_EMBEDDINGS_BATCH = 64;
/** Timeout of one embeddings request. */
export const DEFAULT_EMBEDDINGS_TIMEOUT_MS = 30_000;
/** Retries of a failed embeddings request (429, 5xx, network, timeout). */
export const DEFAULT_EMBEDDINGS_RETRIES = 4;

/** The embedding providers. */
export const EMBEDDING_PROVIDERS = ['use', 'hashed', 'openai'] as const;
/** Reciprocal-rank fusion's k: a hit at rank r adds weight / (k + r). */
export const DEFAULT_RRF_K = 60;
/** Candidates each method (keyword, vector) contributes to fusion. */
export const DEFAULT_SEARCH_CANDIDATES = 50;
/** HNSW candidate list of a vector search (pgvector's `hnsw.ef_search`). */
export const DEFAULT_HNSW_EF_SEARCH = 100;
/** Most tuples an iterative HNSW scan visits before it gives up (pgvector's `hnsw.max_scan_tuples`). */
export const DEFAULT_HNSW_MAX_SCAN_TUPLES = 20_000;
/** Rerankers of the fused candidates: none, or BM25 over the candidates (search/lexical-reranker.ts). */
export const RERANKERS = ['identity', 'lexical'] as const;
/** The reranker by default (measured on the golden dataset: ADR 0032). */
export const DEFAULT_RERANKER = 'lexical' satisfies (typeof RERANKERS)[number];
/** Fused candidates the reranker reads: every candidate of both lists at the default depth of 50 each. */
export const DEFAULT_RERANK_DEPTH = 100;
/** Passages `ask` hands to the answerer. */
export const DEFAULT_ANSWER_SOURCES = 5;
/**
 * Share of the question's (IDF-weighted) content words the best sentence must contain, or the
 * offline answerer says the documents do not answer (measured: see ADR 0018).
 */
export const DEFAULT_ANSWER_MIN_COVERAGE = 0.45;

/** Settings of the knowledge subgraph and its ingestion workers. */
export interface KnowledgeConfig {
  /** Port it listens on (`KNOWLEDGE_PORT`). */
  port: number;
  maxDocumentBytes: number;
  /** Largest streamed upload (`KNOWLEDGE_MAX_UPLOAD_BYTES`), at least {@link maxDocumentBytes}. */
  maxUploadBytes: number;
  chunkTokens: number;
  chunkOverlapTokens: number;
  maxPdfPages: number;
  maxDocxUncompressedBytes: number;
  maxDocxEntries: number;
  embeddings: EmbeddingsConfig;
  search: SearchConfig;
  answer: AnswerConfig;
  /** How model calls are recorded (LLM_REDACT, LLM_PRICES; ADR 0037). */
  generations: GenerationsConfig;
}

/** How hybrid search retrieves and fuses. */
export interface SearchConfig {
  rrfK: number;
  keywordWeight: number;
  vectorWeight: number;
  candidates: number;
  efSearch: number;
  /** Which reranker reorders the fused candidates (`KNOWLEDGE_RERANKER`). */
  reranker: (typeof RERANKERS)[number];
  /** How many fused candidates it reads (`KNOWLEDGE_RERANK_DEPTH`). */
  rerankDepth: number;
  maxScanTuples: number;
}

/** Which answerer `ask` uses and how much it is given. */
export interface AnswerConfig {
  /** Which model writes the answers (the LLM_* settings, read by `llm/src/config.ts`): none offline, or a chat model. */
  llm: LlmConfig;
  sources: number;
  minCoverage: number;
}

/** Which embedder to run and, for a remote one, how to reach it. */
export interface EmbeddingsConfig {
  provider: (typeof EMBEDDING_PROVIDERS)[number];
  dimensions: number;
  endpoint?: string;
  apiKey?: string;
  model?: string;
  batchSize: number;
  timeoutMs: number;
  maxRetries: number;
}

const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a whole number from ${min} to ${max} (got "${raw}")`,
        });
        return z.NEVER;
      }
      return value;
    });
const num = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return fallback;
      const value = Number(raw);
      if (!Number.isFinite(value) || value < min || value > max) {
        ctx.addIssue({
          code: 'custom',
          message: `${name} must be a number from ${min} to ${max} (got "${raw}")`,
        });
        return z.NEVER;
      }
      return value;
    });
const text = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const Schema = z
  .object({
    KNOWLEDGE_PORT: int('KNOWLEDGE_PORT', DEFAULT_PORT, 0, 65_535),
    KNOWLEDGE_MAX_DOCUMENT_BYTES: int(
      'KNOWLEDGE_MAX_DOCUMENT_BYTES',
      DEFAULT_MAX_DOCUMENT_BYTES,
      1,
      1024 ** 3,
    ),
    KNOWLEDGE_MAX_UPLOAD_BYTES: int('KNOWLEDGE_MAX_UPLOAD_BYTES', DEFAULT_MAX_UPLOAD_BYTES, 1, 1024 ** 3),
    KNOWLEDGE_CHUNK_TOKENS: int('KNOWLEDGE_CHUNK_TOKENS', DEFAULT_CHUNK_TOKENS, 16, 8192),
    KNOWLEDGE_CHUNK_OVERLAP_TOKENS: int(
      'KNOWLEDGE_CHUNK_OVERLAP_TOKENS',
      DEFAULT_CHUNK_OVERLAP_TOKENS,
      0,
      4095,
    ),
    KNOWLEDGE_MAX_PDF_PAGES: int('KNOWLEDGE_MAX_PDF_PAGES', DEFAULT_MAX_PDF_PAGES, 1, 1_000_000),
    KNOWLEDGE_MAX_DOCX_UNCOMPRESSED_BYTES: int(
      'KNOWLEDGE_MAX_DOCX_UNCOMPRESSED_BYTES',
      DEFAULT_MAX_DOCX_UNCOMPRESSED_BYTES,
      1024,
      4 * 1024 ** 3,
    ),
    KNOWLEDGE_MAX_DOCX_ENTRIES: int('KNOWLEDGE_MAX_DOCX_ENTRIES', DEFAULT_MAX_DOCX_ENTRIES, 1, 65_535),
    EMBEDDINGS_PROVIDER: z
      .string()
      .trim()
      .optional()
      .transform((raw, ctx) => {
        const value = raw === undefined || raw === '' ? 'use' : raw.toLowerCase();
        if (!(EMBEDDING_PROVIDERS as readonly string[]).includes(value)) {
          ctx.addIssue({
            code: 'custom',
            message: `EMBEDDINGS_PROVIDER must be one of ${EMBEDDING_PROVIDERS.join(', ')} (got "${raw}")`,
          });
          return z.NEVER;
        }
        return value as EmbeddingsConfig['provider'];
      }),
    EMBEDDINGS_DIMENSIONS: int('EMBEDDINGS_DIMENSIONS', DEFAULT_EMBEDDING_DIMENSIONS, 2, 16_000),
    EMBEDDINGS_ENDPOINT: text,
    EMBEDDINGS_API_KEY: text,
    EMBEDDINGS_MODEL: text,
    EMBEDDINGS_BATCH_SIZE: int('EMBEDDINGS_BATCH_SIZE', DEFAULT_EMBEDDINGS_BATCH, 1, 2048),
    EMBEDDINGS_TIMEOUT_MS: int('EMBEDDINGS_TIMEOUT_MS', DEFAULT_EMBEDDINGS_TIMEOUT_MS, 100, 600_000),
    EMBEDDINGS_MAX_RETRIES: int('EMBEDDINGS_MAX_RETRIES', DEFAULT_EMBEDDINGS_RETRIES, 0, 20),
    KNOWLEDGE_RRF_K: int('KNOWLEDGE_RRF_K', DEFAULT_RRF_K, 1, 10_000),
    KNOWLEDGE_KEYWORD_WEIGHT: num('KNOWLEDGE_KEYWORD_WEIGHT', 1, 0, 100),
    KNOWLEDGE_VECTOR_WEIGHT: num('KNOWLEDGE_VECTOR_WEIGHT', 1, 0, 100),
    KNOWLEDGE_SEARCH_CANDIDATES: int('KNOWLEDGE_SEARCH_CANDIDATES', DEFAULT_SEARCH_CANDIDATES, 1, 1000),
    KNOWLEDGE_HNSW_EF_SEARCH: int('KNOWLEDGE_HNSW_EF_SEARCH', DEFAULT_HNSW_EF_SEARCH, 1, 1000),
    KNOWLEDGE_HNSW_MAX_SCAN_TUPLES: int(
      'KNOWLEDGE_HNSW_MAX_SCAN_TUPLES',
      DEFAULT_HNSW_MAX_SCAN_TUPLES,
      1,
      10_000_000,
    ),
    KNOWLEDGE_RERANKER: z
      .string()
      .trim()
      .optional()
      .transform((raw, ctx) => {
        const value = raw === undefined || raw === '' ? DEFAULT_RERANKER : raw.toLowerCase();
        if (!(RERANKERS as readonly string[]).includes(value)) {
          ctx.addIssue({
            code: 'custom',
            message: `KNOWLEDGE_RERANKER must be one of ${RERANKERS.join(', ')} (got "${raw}")`,
          });
          return z.NEVER;
        }
        return value as (typeof RERANKERS)[number];
      }),
    KNOWLEDGE_RERANK_DEPTH: int('KNOWLEDGE_RERANK_DEPTH', DEFAULT_RERANK_DEPTH, 1, 200),
    KNOWLEDGE_ANSWER_SOURCES: int('KNOWLEDGE_ANSWER_SOURCES', DEFAULT_ANSWER_SOURCES, 1, 20),
    KNOWLEDGE_ANSWER_MIN_COVERAGE: num('KNOWLEDGE_ANSWER_MIN_COVERAGE', DEFAULT_ANSWER_MIN_COVERAGE, 0, 1),
  })
  .superRefine((env, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', message });
    if (env.KNOWLEDGE_MAX_UPLOAD_BYTES < env.KNOWLEDGE_MAX_DOCUMENT_BYTES) {
      issue(
        `KNOWLEDGE_MAX_UPLOAD_BYTES must be at least KNOWLEDGE_MAX_DOCUMENT_BYTES (${env.KNOWLEDGE_MAX_DOCUMENT_BYTES}; got ${env.KNOWLEDGE_MAX_UPLOAD_BYTES})`,
      );
    }
    if (env.KNOWLEDGE_CHUNK_OVERLAP_TOKENS * 2 >= env.KNOWLEDGE_CHUNK_TOKENS) {
      issue('KNOWLEDGE_CHUNK_OVERLAP_TOKENS must be under half of KNOWLEDGE_CHUNK_TOKENS');
    }
    if (env.EMBEDDINGS_PROVIDER === 'use' && env.EMBEDDINGS_DIMENSIONS !== DEFAULT_EMBEDDING_DIMENSIONS) {
      issue(
        `EMBEDDINGS_DIMENSIONS must be 512 with EMBEDDINGS_PROVIDER=use (got ${env.EMBEDDINGS_DIMENSIONS})`,
      );
    }
    if (env.KNOWLEDGE_KEYWORD_WEIGHT === 0 && env.KNOWLEDGE_VECTOR_WEIGHT === 0) {
      issue('KNOWLEDGE_KEYWORD_WEIGHT and KNOWLEDGE_VECTOR_WEIGHT cannot both be 0');
    }
    if (env.EMBEDDINGS_PROVIDER === 'openai') {
      if (!env.EMBEDDINGS_ENDPOINT) issue('EMBEDDINGS_ENDPOINT must be set with EMBEDDINGS_PROVIDER=openai');
      else if (!/^https?:\/\//.test(env.EMBEDDINGS_ENDPOINT)) {
        issue('EMBEDDINGS_ENDPOINT must be an http:// or https:// URL');
      }
      if (!env.EMBEDDINGS_MODEL) issue('EMBEDDINGS_MODEL must be set with EMBEDDINGS_PROVIDER=openai');
    }
  });

/** Reads and validates the knowledge settings once; every problem is reported with its variable. */
export function loadKnowledgeConfig(env: NodeJS.ProcessEnv = process.env): KnowledgeConfig {
  const parsed = Schema.safeParse(env);
  const llm = readEnv(llmSchema, env);
  const generations = readEnv(generationsSchema, env);
  if (!parsed.success || !llm.ok || !generations.ok) {
    throw new ConfigError([
      ...(parsed.success ? [] : parsed.error.issues.map((i) => i.message)),
      ...(llm.ok ? [] : llm.problems),
      ...(generations.ok ? [] : generations.problems),
    ]);
  }
  const e = parsed.data;
  return {
    port: e.KNOWLEDGE_PORT,
    maxDocumentBytes: e.KNOWLEDGE_MAX_DOCUMENT_BYTES,
    maxUploadBytes: e.KNOWLEDGE_MAX_UPLOAD_BYTES,
    chunkTokens: e.KNOWLEDGE_CHUNK_TOKENS,
    chunkOverlapTokens: e.KNOWLEDGE_CHUNK_OVERLAP_TOKENS,
    maxPdfPages: e.KNOWLEDGE_MAX_PDF_PAGES,
    maxDocxUncompressedBytes: e.KNOWLEDGE_MAX_DOCX_UNCOMPRESSED_BYTES,
    maxDocxEntries: e.KNOWLEDGE_MAX_DOCX_ENTRIES,
    embeddings: {
      provider: e.EMBEDDINGS_PROVIDER,
      dimensions: e.EMBEDDINGS_DIMENSIONS,
      endpoint: e.EMBEDDINGS_ENDPOINT,
      apiKey: e.EMBEDDINGS_API_KEY,
      model: e.EMBEDDINGS_MODEL,
      batchSize: e.EMBEDDINGS_BATCH_SIZE,
      timeoutMs: e.EMBEDDINGS_TIMEOUT_MS,
      maxRetries: e.EMBEDDINGS_MAX_RETRIES,
    },
    search: {
      rrfK: e.KNOWLEDGE_RRF_K,
      keywordWeight: e.KNOWLEDGE_KEYWORD_WEIGHT,
      vectorWeight: e.KNOWLEDGE_VECTOR_WEIGHT,
      candidates: e.KNOWLEDGE_SEARCH_CANDIDATES,
      efSearch: e.KNOWLEDGE_HNSW_EF_SEARCH,
      reranker: e.KNOWLEDGE_RERANKER,
      rerankDepth: e.KNOWLEDGE_RERANK_DEPTH,
      maxScanTuples: e.KNOWLEDGE_HNSW_MAX_SCAN_TUPLES,
    },
    answer: {
      llm: llm.value,
      sources: e.KNOWLEDGE_ANSWER_SOURCES,
      minCoverage: e.KNOWLEDGE_ANSWER_MIN_COVERAGE,
    },
    generations: generations.value,
  };
}
