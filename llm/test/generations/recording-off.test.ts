// LLM_GENERATIONS=off: model calls run without a record or a budget check, and the setting is read
// and refused like every other.
import { randomUUID } from 'node:crypto';
import { loadGenerationsConfig } from '#llm/config.ts';
import { createGenerationRecorder, type GenerationScope } from '#llm/generations/generation-recorder.ts';

const call = (tenantId: string) => ({
  caller: { tenantId, actor: { kind: 'USER' as const, userId: 'u1', userName: 'Ada' }, purpose: 'answer' },
  operation: 'chat' as const,
  provider: 'openai',
  model: 'gpt-4o-mini',
  input: { messages: [{ role: 'user', content: 'hi' }] },
  estimatedTokens: 10,
});

/** A scope that counts its transactions: the recorder's only way to the database. */
function countingScope(tenantId: string): GenerationScope & { runs: number } {
  const scope = {
    tenantId,
    runs: 0,
    run: async () => {
      scope.runs++;
      throw new Error('the database was used');
    },
  };
  return scope;
}

describe('LLM_GENERATIONS', () => {
  it('is on by default, off when told, and refuses anything else by name', () => {
    expect(loadGenerationsConfig({}).record).toBe(true);
    expect(loadGenerationsConfig({ LLM_GENERATIONS: 'on' }).record).toBe(true);
    expect(loadGenerationsConfig({ LLM_GENERATIONS: 'off' }).record).toBe(false);
    expect(() => loadGenerationsConfig({ LLM_GENERATIONS: 'no' })).toThrow(
      /LLM_GENERATIONS must be on or off/,
    );
  });

  it('off: the call runs and answers without touching the database (no budget check, no record)', async () => {
    const tenantId = randomUUID();
    const recorder = createGenerationRecorder(loadGenerationsConfig({ LLM_GENERATIONS: 'off' }));
    expect(recorder.recording).toBe(false);
    const scope = countingScope(tenantId);
    const result = await recorder.observe(
      scope,
      call(tenantId),
      async (handle) => {
        handle.firstToken();
        return 'answer';
      },
      () => ({ inputTokens: 1, outputTokens: 1 }),
    );
    expect(result).toBe('answer');
    expect(scope.runs).toBe(0);
    // A failing call's own error is what the caller sees.
    await expect(
      recorder.observe(
        scope,
        call(tenantId),
        async () => {
          throw new Error('model down');
        },
        () => ({ inputTokens: 0, outputTokens: 0 }),
      ),
    ).rejects.toThrow('model down');
    expect(scope.runs).toBe(0);
  });

  it('on: the same call goes through the database (the budget check comes first)', async () => {
    const tenantId = randomUUID();
    const recorder = createGenerationRecorder(loadGenerationsConfig({}));
    const scope = countingScope(tenantId);
    let ran = false;
    await expect(
      recorder.observe(
        scope,
        call(tenantId),
        async () => {
          ran = true;
          return 'answer';
        },
        () => ({ inputTokens: 1, outputTokens: 1 }),
      ),
    ).rejects.toThrow('the database was used');
    expect({ runs: scope.runs, ran }).toEqual({ runs: 1, ran: false });
  });
});
