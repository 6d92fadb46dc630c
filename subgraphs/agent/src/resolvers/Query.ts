import { type PageArgs, parsePageArgs, toConnection } from '#kernel/graphql/connection.ts';
import type { RequestContext } from '#kernel/graphql/context.ts';
import { parseId } from '#kernel/graphql/ids.ts';
import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import { Note } from '../domain/note.entity.ts';
import { SentMail } from '../domain/sent-mail.entity.ts';
import { Task } from '../domain/task.entity.ts';
import { currentPolicy } from '../domain/tool-policy.entity.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { inputSchemaOf } from '../tools/tool.ts';

const limit = (first: number | null | undefined) => Math.min(Math.max(first ?? 20, 1), 100);

/** Query fields of the agent subgraph. */
export const queryResolvers = (tools: ToolRegistry): QueryResolvers => ({
  async tasks(_: unknown, args: PageArgs, ctx: RequestContext) {
    const page = parsePageArgs(args);
    const rows = await ctx.db.run((em) => em.getRepository(Task).page(page));
    return toConnection(rows, page, (task) => ({ at: task.createdAt, id: task.id }));
  },

  task(_: unknown, args: { id: string }, ctx: RequestContext) {
    const id = parseId(args.id);
    return ctx.db.run((em) => em.findOne(Task, { id }));
  },

  async tools(_: unknown, __: unknown, ctx: RequestContext) {
    const policy = await ctx.db.run((em) => currentPolicy(em, ctx.db.tenantId));
    return tools
      .list()
      .filter((tool) => tool.riskLevel)
      .map((tool) => {
        const rule = policy.ruleFor(tool.name, tool.riskLevel!);
        return {
          name: tool.name,
          description: tool.description,
          defaultRiskLevel: tool.riskLevel!,
          riskLevel: rule.riskLevel,
          requiresApproval: rule.requiresApproval,
          approvers: rule.approvers,
          inputSchema: inputSchemaOf(tool),
        };
      });
  },

  async toolPolicy(_: unknown, __: unknown, ctx: RequestContext) {
    return ctx.db.run((em) => currentPolicy(em, ctx.db.tenantId));
  },

  sentMails(_: unknown, args: { first?: number | null }, ctx: RequestContext) {
    return ctx.db.run((em) =>
      em.find(
        SentMail,
        { sentBy: ctx.identity.subjectId },
        { orderBy: { sentAt: 'desc', id: 'desc' }, limit: limit(args.first) },
      ),
    );
  },

  notes(_: unknown, args: { first?: number | null }, ctx: RequestContext) {
    return ctx.db.run((em) =>
      em.find(Note, {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit(args.first) }),
    );
  },
});
