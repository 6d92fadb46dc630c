import type { CreateChatClientOptions } from '#llm/create-chat-client.ts';
import type { AnswerConfig } from '../config.ts';
import type { Answerer } from './answerer.ts';
import { createLlmAnswerer } from './llm-answerer.ts';
import { OfflineAnswerer } from './offline-answerer.ts';

/** The answerer LLM_PROVIDER names: the offline extractive one, or the chat answerer (openai, azure). */
export function createAnswerer(config: AnswerConfig, options: CreateChatClientOptions = {}): Answerer {
  if (config.llm.provider === 'offline') return new OfflineAnswerer({ minCoverage: config.minCoverage });
  return createLlmAnswerer(config.llm, options);
}
