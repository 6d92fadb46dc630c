import type { StreamTransport } from '#events/transport/transport.ts';
import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { type APPROVAL_STATUSES, ApprovalRequest } from '../domain/approval-request.entity.ts';
import { deadLetterView, EventBusAdmin } from '../domain/event-bus-admin.ts';
import { readKillSwitchView } from './KillSwitch.ts';

type Status = (typeof APPROVAL_STATUSES)[number];

/** Query fields of the governance subgraph; `events` is the bus it administers. */
export const queryResolvers = (events: StreamTransport | undefined): QueryResolvers => ({
  killSwitch(_: unknown, __: unknown, ctx: RequestContext) {
    return ctx.db.run((em) => readKillSwitchView(em, ctx));
  },

  async approvalRequests(_: unknown, args: PageArgs & { status?: Status | null }, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(ApprovalRequest).page(page, args.status));
    return toConnection(rows, page, (request) => ({ at: request.requestedAt, id: request.id }));
  },

  approvalRequest(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run((em) => em.findOne(ApprovalRequest, { id }));
  },

  async eventStreams(_: unknown, __: unknown, ctx: RequestContext) {
    const stats = await EventBusAdmin.of(ctx, events).stats();
    return stats.map((row) => ({ ...row, topic: row.stream, oldestPendingAgeMs: row.oldestPendingMs }));
  },

  async deadLetters(
    _: unknown,
    args: { topic: string; first?: number | null; after?: string | null },
    ctx: RequestContext,
  ) {
    const page = await EventBusAdmin.of(ctx, events).page(args.topic, args.first ?? undefined, args.after);
    return { items: page.items.map(deadLetterView), nextAfter: page.nextAfter };
  },

  async deadLetter(_: unknown, args: { topic: string; id: string }, ctx: RequestContext) {
    const letter = await EventBusAdmin.of(ctx, events).find(args.topic, args.id);
    return letter ? deadLetterView(letter) : null;
  },
});
