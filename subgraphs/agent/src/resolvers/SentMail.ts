import type { SentMailResolvers } from '../__generated__/resolvers-types.ts';
import type { SentMail as SentMailEntity } from '../domain/sent-mail.entity.ts';

/** Field resolvers of `SentMail`. */
export const SentMail: SentMailResolvers = {
  to: (mail: SentMailEntity) => mail.recipients,
};
