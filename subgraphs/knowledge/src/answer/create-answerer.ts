import type { AnswerConfig } from '../config.ts';
import type { Answerer } from './answerer.ts';
import { OfflineAnswerer } from './offline-answerer.ts';

/** The answerer LLM_PROVIDER names. */
export function createAnswerer(config: AnswerConfig): Answerer {
  switch (config.provider) {
    case 'offline':
      return new OfflineAnswerer({ minCoverage: config.minCoverage });
  }
}
