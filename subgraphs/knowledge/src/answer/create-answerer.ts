import { loadConfig } from '#kernel/config.ts';
import type { CreateChatClientOptions } from '#llm/create-chat-client.ts';
import type { AnswerConfig } from '../config.ts';
import type { Answerer } from './answerer.ts';
import { createLlmAnswerer } from './llm-answerer.ts';
import { OfflineAnswerer } from './offline-answerer.ts';

/**
 * The answerer LLM_PROVIDER names: the offline extractive one, or the chat answerer (openai, azure).
 * Azure without LLM_API_KEY signs in with the service's own Entra identity: the platform's auth
 * settings are read for it when not given.
 */
export function createAnswerer(config: AnswerConfig, options: CreateChatClientOptions = {}): Answerer {
  const { llm } = config;
  if (llm.provider === 'offline') return new OfflineAnswerer({ minCoverage: config.minCoverage });
  const needsIdentity = llm.provider === 'azure' && !llm.apiKey && !options.tokens && !options.auth;
  return createLlmAnswerer(llm, needsIdentity ? { ...options, auth: loadConfig().auth } : options);
}
