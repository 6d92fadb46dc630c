// Monthly token budgets (observability.token_budgets), checked before a model call against the
// committed usage of the month (observability.token_usage): per tenant (user_id '') and per user.
import type { EntityManager } from '@mikro-orm/postgresql';
import { BudgetExceededError } from '#kernel/errors.ts';

/** One budget and what the month has used of it. */
export interface BudgetUse {
  /** null: the tenant-wide budget. */
  readonly userId: string | null;
  readonly monthlyTokens: number;
  readonly usedTokens: number;
}

/** The first day (UTC) of the month of `at`. */
export function monthOf(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), 1));
}

/** The first day (UTC) of the month after `at`'s: when budgets reset. */
export function nextMonthOf(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth() + 1, 1));
}

/** The budgets that apply to `userId` (the tenant's and the user's own), with the month's use of each. */
export async function budgetsInForce(
  em: EntityManager,
  tenantId: string,
  userId: string | null,
  at: Date,
): Promise<BudgetUse[]> {
  const rows = await em.execute<{ user_id: string; monthly_tokens: string; used: string }[]>(
    `select b.user_id, b.monthly_tokens,
            coalesce((select sum(u.tokens) from observability.token_usage u
                       where u.tenant_id = b.tenant_id and u.month = ?::date
                         and (b.user_id = '' or u.user_id = b.user_id)), 0) as used
       from observability.token_budgets b
      where b.tenant_id = ? and b.monthly_tokens is not null and (b.user_id = '' or b.user_id = ?)
      order by b.user_id desc`,
    [monthOf(at).toISOString().slice(0, 10), tenantId, userId ?? ''],
  );
  return rows.map((r) => ({
    userId: r.user_id === '' ? null : r.user_id,
    monthlyTokens: Number(r.monthly_tokens),
    usedTokens: Number(r.used),
  }));
}

/**
 * Refuses a call before it is made when the month's use plus its estimated input would pass a
 * budget: the user's own first, then the tenant's. The refusal names the budget, the use and the reset.
 */
export class BudgetGuard {
  /** Checks in `em` (a tenant transaction); throws {@link BudgetExceededError}. */
  async check(
    em: EntityManager,
    tenantId: string,
    userId: string | null,
    estimatedTokens: number,
    at = new Date(),
  ): Promise<void> {
    for (const budget of await budgetsInForce(em, tenantId, userId, at)) {
      if (budget.usedTokens + estimatedTokens <= budget.monthlyTokens) continue;
      const whose = budget.userId
        ? `The monthly token budget of user ${budget.userId}`
        : "The tenant's monthly token budget";
      const resets = nextMonthOf(at).toISOString();
      throw new BudgetExceededError(
        `${whose} (${budget.monthlyTokens} tokens) would be exceeded: ${budget.usedTokens} tokens used this month, ` +
          `and this call needs about ${estimatedTokens} more. The budget resets at ${resets}; an Admin can raise it with setTokenBudget.`,
        {
          budget: budget.userId ? 'USER' : 'TENANT',
          ...(budget.userId ? { userId: budget.userId } : {}),
          monthlyTokens: budget.monthlyTokens,
          usedTokens: budget.usedTokens,
          estimatedTokens,
          resetsAt: resets,
        },
      );
    }
  }
}

/** A rough count of the tokens a text costs (about four characters a token), for the check before a call. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
