import { ConfigError } from '#kernel/errors.ts';
import { loadLlmConfig } from '#llm/config.ts';

const problems = (env: Record<string, string>) => {
  try {
    loadLlmConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
};

describe('LLM configuration', () => {
  it('is offline by default', () => {
    expect(loadLlmConfig({})).toEqual({ provider: 'offline' });
    expect(loadLlmConfig({ LLM_PROVIDER: ' ', LLM_MODEL: 'ignored' })).toEqual({ provider: 'offline' });
  });

  it('reads an OpenAI-compatible provider with defaults', () => {
    expect(loadLlmConfig({ LLM_PROVIDER: 'openai', LLM_MODEL: 'gpt-4o-mini', LLM_API_KEY: 'sk-1' })).toEqual({
      provider: 'openai',
      endpoint: 'https://api.openai.com/v1',
      model: 'gpt-4o-mini',
      apiKey: 'sk-1',
      timeoutMs: 60_000,
      maxRetries: 3,
    });
  });

  it('reads Azure OpenAI: resource, deployment, API version, key or Entra scope', () => {
    expect(
      loadLlmConfig({
        LLM_PROVIDER: 'azure',
        LLM_ENDPOINT: 'https://contoso.openai.azure.com',
        LLM_AZURE_DEPLOYMENT: 'gpt4o-prod',
        LLM_TIMEOUT_MS: '20000',
        LLM_MAX_RETRIES: '0',
      }),
    ).toEqual({
      provider: 'azure',
      endpoint: 'https://contoso.openai.azure.com',
      deployment: 'gpt4o-prod',
      apiVersion: '2024-10-21',
      scope: 'https://cognitiveservices.azure.com/.default',
      apiKey: undefined,
      model: undefined,
      timeoutMs: 20_000,
      maxRetries: 0,
    });
  });

  it('names every problem at once', () => {
    expect(problems({ LLM_PROVIDER: 'anthropic' })).toEqual([
      'LLM_PROVIDER must be one of offline, openai, azure (got "anthropic")',
    ]);
    expect(problems({ LLM_PROVIDER: 'openai', LLM_ENDPOINT: 'ftp://x', LLM_TIMEOUT_MS: 'soon' })).toEqual([
      'LLM_ENDPOINT must be an http:// or https:// URL',
      'LLM_TIMEOUT_MS must be a whole number from 100 to 600000 (got "soon")',
      'LLM_MODEL must be set with LLM_PROVIDER=openai (e.g. gpt-4o-mini)',
    ]);
    expect(problems({ LLM_PROVIDER: 'azure', LLM_MAX_RETRIES: '99' })).toEqual([
      'LLM_MAX_RETRIES must be a whole number from 0 to 10 (got "99")',
      'LLM_ENDPOINT must be set with LLM_PROVIDER=azure (https://<resource>.openai.azure.com)',
      'LLM_AZURE_DEPLOYMENT must be set with LLM_PROVIDER=azure',
    ]);
  });
});
