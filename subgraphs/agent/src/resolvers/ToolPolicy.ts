import type { ToolPolicyResolvers } from '../__generated__/resolvers-types.ts';
import type { ToolPolicy as ToolPolicyEntity } from '../domain/tool-policy.entity.ts';

/** Field resolvers of `ToolPolicy`. */
export const ToolPolicy: ToolPolicyResolvers = {
  createdAt: (policy: ToolPolicyEntity) => policy.createdAt ?? null,
  createdBy: (policy: ToolPolicyEntity) => policy.createdByName,
  rules: (policy: ToolPolicyEntity) =>
    policy.rules.map((r) => ({
      tool: r.tool,
      riskLevel: r.riskLevel ?? null,
      requireApproval: r.requireApproval ?? false,
      approvers: r.approvers ?? 1,
    })),
};
