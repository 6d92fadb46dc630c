import { ConfigError } from '#kernel/errors.ts';
import { loadKnowledgeConfig } from '../src/config.ts';

describe('knowledge configuration', () => {
  it('reads the answer model from the LLM_* settings: offline by default, a chat model when named', () => {
    expect(loadKnowledgeConfig({}).answer.llm).toEqual({ provider: 'offline' });
    expect(
      loadKnowledgeConfig({ LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'sk' }).answer.llm,
    ).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', endpoint: 'https://api.openai.com/v1' });
  });

  it('chooses the reranker: lexical by default, identity when asked, anything else named as wrong', () => {
    expect(loadKnowledgeConfig({}).search).toMatchObject({ reranker: 'lexical', rerankDepth: 100 });
    expect(
      loadKnowledgeConfig({ KNOWLEDGE_RERANKER: 'Identity', KNOWLEDGE_RERANK_DEPTH: '20' }).search,
    ).toMatchObject({ reranker: 'identity', rerankDepth: 20 });
    expect(() => loadKnowledgeConfig({ KNOWLEDGE_RERANKER: 'cohere' })).toThrow(
      'KNOWLEDGE_RERANKER must be one of identity, lexical (got "cohere")',
    );
  });

  it('reports the LLM problems together with its own', () => {
    let problems: readonly string[] = [];
    try {
      loadKnowledgeConfig({ LLM_PROVIDER: 'azure', KNOWLEDGE_PORT: 'x' });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      problems = (error as ConfigError).problems;
    }
    expect(problems).toEqual([
      'KNOWLEDGE_PORT must be a whole number from 0 to 65535 (got "x")',
      'LLM_ENDPOINT must be set with LLM_PROVIDER=azure (https://<resource>.openai.azure.com)',
      'LLM_AZURE_DEPLOYMENT must be set with LLM_PROVIDER=azure',
    ]);
  });
});
