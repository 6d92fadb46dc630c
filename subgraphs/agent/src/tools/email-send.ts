import { z } from 'zod';
import { SentMail } from '../domain/sent-mail.entity.ts';
import { defineTool, type ToolContext } from './tool.ts';

/** Sends one mail through a real mail service (Microsoft Graph in production). */
export interface Mailer {
  readonly transport: 'graph';
  send(mail: { to: string[]; subject: string; body: string }, ctx: ToolContext): Promise<void>;
}

/**
 * `email.send` (HIGH: it leaves the platform). Offline (no mailer) the stored record is the send;
 * with a mailer the record is written in the step's transaction after the send. Either way a step's
 * idempotency key is looked up first, so a resumed step never sends again once its record committed.
 */
export function emailSendTool(mailer?: Mailer) {
  return defineTool({
    name: 'email.send',
    description: 'Sends an e-mail on behalf of the task owner.',
    riskLevel: 'HIGH',
    input: z.object({
      to: z
        .array(z.email({ message: 'must be an e-mail address' }))
        .min(1)
        .max(20),
      subject: z.string().trim().min(1).max(500),
      body: z.string().max(100_000),
    }),
    async run(input, ctx) {
      const earlier = await ctx.em.findOne(SentMail, { idempotencyKey: ctx.idempotencyKey });
      if (earlier) return { mailId: earlier.id, transport: earlier.transport, repeated: true };
      ctx.signal.throwIfAborted();
      if (mailer) await mailer.send(input, ctx);
      const mail = SentMail.record({
        tenantId: ctx.tenantId,
        taskId: ctx.taskId,
        idempotencyKey: ctx.idempotencyKey,
        ...input,
        owner: ctx.owner,
        transport: mailer ? mailer.transport : 'offline',
      });
      ctx.em.persist(mail);
      await ctx.em.flush();
      return { mailId: mail.id, transport: mail.transport, recipients: input.to.length };
    },
  });
}

/** Options of {@link graphMailer}. */
export interface GraphMailerOptions {
  /** Graph base URL, e.g. https://graph.microsoft.com/v1.0. */
  baseUrl: string;
  /** The mailbox mail is sent from (application permission Mail.Send). */
  sender: string;
  /** An app-only Graph token (msal-node client credentials, scope https://graph.microsoft.com/.default). */
  token: () => Promise<string>;
  fetch?: typeof fetch;
}

/** {@link Mailer} over Microsoft Graph `POST /users/{sender}/sendMail`. */
export function graphMailer(options: GraphMailerOptions): Mailer {
  const fetchImpl = options.fetch ?? fetch;
  return {
    transport: 'graph',
    async send(mail, ctx) {
      const res = await fetchImpl(`${options.baseUrl}/users/${encodeURIComponent(options.sender)}/sendMail`, {
        method: 'POST',
        signal: ctx.signal,
        headers: { authorization: `Bearer ${await options.token()}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          message: {
            subject: mail.subject,
            body: { contentType: 'Text', content: mail.body },
            toRecipients: mail.to.map((address) => ({ emailAddress: { address } })),
            internetMessageHeaders: [{ name: 'X-WidgeTDC-Idempotency-Key', value: ctx.idempotencyKey }],
          },
          saveToSentItems: true,
        }),
      });
      if (res.status !== 202) throw new Error(`Graph sendMail answered HTTP ${res.status}`);
    },
  };
}
