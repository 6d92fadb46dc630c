// With LLM_GENERATIONS=off budgets would not be enforced: setTokenBudget says so instead of storing one.
import { UnavailableError } from '#kernel/errors.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { llmopsMutations } from '../../src/llmops/llmops-resolvers.ts';

const ctx = {
  db: {
    tenantId: '00000000-0000-4000-8000-000000000001',
    run: async () => {
      throw new Error('the database was used');
    },
  },
  identity: { displayName: 'Ada' },
} as unknown as RequestContext;

describe('setTokenBudget while model calls are not recorded', () => {
  it('is refused with SERVICE_UNAVAILABLE naming LLM_GENERATIONS, and stores nothing', () => {
    const attempt = () =>
      llmopsMutations(false).setTokenBudget(undefined, { input: { monthlyTokens: 1000 } }, ctx);
    expect(attempt).toThrow(UnavailableError);
    expect(attempt).toThrow(/LLM_GENERATIONS=off/);
  });

  it('goes to the database when they are recorded', async () => {
    await expect(
      llmopsMutations(true).setTokenBudget(undefined, { input: { monthlyTokens: 1000 } }, ctx),
    ).rejects.toThrow('the database was used');
  });
});
