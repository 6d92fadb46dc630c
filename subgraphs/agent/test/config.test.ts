import { ConfigError } from '#kernel/errors.ts';
import {
  DEFAULT_PLANNER_MAX_STEPS,
  DEFAULT_PLANNER_MAX_TIME_MS,
  DEFAULT_PLANNER_MAX_TOKENS,
  loadAgentConfig,
} from '../src/config.ts';

const problemsOf = (env: Record<string, string>): readonly string[] => {
  try {
    loadAgentConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('agent settings: the LLM planner', () => {
  it('defaults to no language model and the default bounds', () => {
    const config = loadAgentConfig({});
    expect(config.llm).toEqual({ provider: 'offline' });
    expect(config.planner).toEqual({
      maxSteps: DEFAULT_PLANNER_MAX_STEPS,
      maxTokens: DEFAULT_PLANNER_MAX_TOKENS,
      maxTimeMs: DEFAULT_PLANNER_MAX_TIME_MS,
    });
  });

  it('reads the bounds and the shared LLM_* settings', () => {
    const config = loadAgentConfig({
      AGENT_PLANNER_MAX_STEPS: '5',
      AGENT_PLANNER_MAX_TOKENS: '2000',
      AGENT_PLANNER_MAX_TIME_MS: '30000',
      LLM_PROVIDER: 'openai',
      LLM_ENDPOINT: 'http://127.0.0.1:8000/v1',
      LLM_MODEL: 'gpt-4o-mini',
    });
    expect(config.planner).toEqual({ maxSteps: 5, maxTokens: 2000, maxTimeMs: 30000 });
    expect(config.llm).toMatchObject({
      provider: 'openai',
      endpoint: 'http://127.0.0.1:8000/v1',
      model: 'gpt-4o-mini',
    });
  });

  it('names every wrong setting at once, the LLM_* ones included', () => {
    const problems = problemsOf({
      AGENT_PLANNER_MAX_STEPS: '51',
      AGENT_PLANNER_MAX_TOKENS: 'lots',
      AGENT_PLANNER_MAX_TIME_MS: '10',
      LLM_PROVIDER: 'openai',
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'AGENT_PLANNER_MAX_STEPS must be an integer from 1 to 50',
        'AGENT_PLANNER_MAX_TOKENS must be an integer from 1 to 10000000',
        'AGENT_PLANNER_MAX_TIME_MS must be an integer from 100 to 86400000',
        expect.stringMatching(/LLM_MODEL must be set with LLM_PROVIDER=openai/),
      ]),
    );
    expect(problems).toHaveLength(4);
  });
});
