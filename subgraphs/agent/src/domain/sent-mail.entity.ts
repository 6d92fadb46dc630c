import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';

const SentMailSchema = defineEntity({
  name: 'SentMail',
  schema: 'agent',
  tableName: 'sent_mails',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    taskId: p.uuid().nullable(),
    idempotencyKey: p.text(),
    recipients: p.json<string[]>(),
    subject: p.text(),
    body: p.text(),
    sentBy: p.uuid(),
    sentByName: p.text(),
    transport: p.enum(['offline', 'graph'] as const),
    sentAt: p.datetime(3),
  },
});

/** A mail `email.send` sent (offline: the only trace of it; with Graph: the record of the send). */
export class SentMail extends SentMailSchema.class {
  /** The record of one send under the step's idempotency key. */
  static record(input: {
    tenantId: string;
    taskId: string;
    idempotencyKey: string;
    to: string[];
    subject: string;
    body: string;
    owner: { id: string; name: string };
    transport: 'offline' | 'graph';
  }): SentMail {
    const mail = new SentMail();
    mail.id = randomUUID();
    mail.tenantId = input.tenantId;
    mail.taskId = input.taskId;
    mail.idempotencyKey = input.idempotencyKey;
    mail.recipients = input.to;
    mail.subject = input.subject;
    mail.body = input.body;
    mail.sentBy = input.owner.id;
    mail.sentByName = input.owner.name;
    mail.transport = input.transport;
    mail.sentAt = new Date();
    return mail;
  }
}

SentMailSchema.setClass(SentMail);

export { SentMailSchema };
