import { defineEntity, p } from '@mikro-orm/postgresql';
import { RISK_LEVELS, type RiskLevel } from '#contracts/enums.ts';
import type { Identity } from '#kernel/auth/identity.ts';
import { ValidationError } from '#kernel/errors.ts';

/** How a tenant tightens one tool. */
export interface ToolRule {
  tool: string;
  /** A class above the tool's own (never below it). */
  riskLevel?: RiskLevel | null;
  /** A MEDIUM tool's calls wait for approval too. */
  requireApproval?: boolean | null;
  /** Distinct approvers a call needs (1 to {@link MAX_APPROVERS}). */
  approvers?: number | null;
}

/** Most distinct approvers a policy may require. */
export const MAX_APPROVERS = 5;

/** What a call of a tool needs under a policy. */
export interface EffectiveRule {
  riskLevel: RiskLevel;
  requiresApproval: boolean;
  approvers: number;
}

const ToolPolicySchema = defineEntity({
  name: 'ToolPolicy',
  schema: 'agent',
  tableName: 'tool_policies',
  properties: {
    tenantId: p.uuid().primary(),
    version: p.integer().primary(),
    rules: p.json<ToolRule[]>(),
    createdBy: p.uuid(),
    createdByName: p.text(),
    createdAt: p.datetime(3),
  },
});

const rank = (level: RiskLevel) => RISK_LEVELS.indexOf(level);

/** One immutable version of a tenant's tool policy; version 0 (no row) has no rules. */
export class ToolPolicy extends ToolPolicySchema.class {
  /** The policy of a tenant that never set one. */
  static initial(tenantId: string): ToolPolicy {
    const policy = new ToolPolicy();
    policy.tenantId = tenantId;
    policy.version = 0;
    policy.rules = [];
    policy.createdByName = 'default';
    return policy;
  }

  /**
   * The next version after `previous`, with `rules` checked against the tools' own classes
   * (`classOf`): a rule may only raise a class, approvers are 1 to 5, one rule per tool.
   */
  static next(
    previous: ToolPolicy,
    rules: ToolRule[],
    classOf: (tool: string) => RiskLevel,
    by: Identity,
  ): ToolPolicy {
    const seen = new Set<string>();
    rules.forEach((rule, i) => {
      const field = `rules.${i}`;
      if (seen.has(rule.tool))
        throw new ValidationError(`${field}: tool ${rule.tool} has two rules`, { field });
      seen.add(rule.tool);
      const base = classOf(rule.tool);
      if (rule.riskLevel && rank(rule.riskLevel) < rank(base)) {
        throw new ValidationError(
          `${field}: ${rule.tool} is ${base}; a policy may raise a tool's class, never lower it to ${rule.riskLevel}`,
          { field: `${field}.riskLevel` },
        );
      }
      const approvers = rule.approvers ?? 1;
      if (!Number.isInteger(approvers) || approvers < 1 || approvers > MAX_APPROVERS) {
        throw new ValidationError(`${field}: approvers must be 1 to ${MAX_APPROVERS} (got ${approvers})`, {
          field: `${field}.approvers`,
        });
      }
    });
    const policy = new ToolPolicy();
    policy.tenantId = previous.tenantId;
    policy.version = previous.version + 1;
    policy.rules = rules.map((r) => ({
      tool: r.tool,
      riskLevel: r.riskLevel ?? null,
      requireApproval: r.requireApproval ?? false,
      approvers: r.approvers ?? 1,
    }));
    policy.createdBy = by.subjectId;
    policy.createdByName = by.displayName;
    policy.createdAt = new Date();
    return policy;
  }

  /** What a call of a tool of class `base` needs under this policy. HIGH always needs approval. */
  ruleFor(tool: string, base: RiskLevel): EffectiveRule {
    const rule = this.rules.find((r) => r.tool === tool);
    const raised = rule?.riskLevel && rank(rule.riskLevel) > rank(base) ? rule.riskLevel : base;
    const requiresApproval = raised === 'HIGH' || (raised === 'MEDIUM' && rule?.requireApproval === true);
    return { riskLevel: raised, requiresApproval, approvers: requiresApproval ? (rule?.approvers ?? 1) : 0 };
  }
}

ToolPolicySchema.setClass(ToolPolicy);

export { ToolPolicySchema };

/** The tenant's current policy (the transaction's tenant), or version 0. */
export async function currentPolicy(
  em: import('@mikro-orm/postgresql').EntityManager,
  tenantId: string,
): Promise<ToolPolicy> {
  const found = await em.findOne(ToolPolicy, { tenantId }, { orderBy: { version: 'desc' } });
  return found ?? ToolPolicy.initial(tenantId);
}
