import type { SearchConfig } from '../config.ts';
import { lexicalReranker } from './lexical-reranker.ts';
import { identityReranker, type Reranker } from './reranker.ts';

/** The reranker `KNOWLEDGE_RERANKER` names, reading `KNOWLEDGE_RERANK_DEPTH` fused candidates. */
export function createReranker(config: Pick<SearchConfig, 'reranker' | 'rerankDepth'>): Reranker {
  if (config.reranker === 'lexical') return lexicalReranker({ depth: config.rerankDepth });
  return identityReranker;
}
