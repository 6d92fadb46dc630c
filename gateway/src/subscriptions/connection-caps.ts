import type { GraphQLError } from 'graphql';
import { limitError } from '#kernel/graphql/limits/operation-limits.ts';

/** Counts each tenant's open WebSocket connections on this gateway and admits up to a cap. */
export class TenantConnections {
  readonly #open = new Map<string, number>();
  readonly #max: number;

  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new Error('maxConnectionsPerTenant must be a positive whole number');
    this.#max = max;
  }

  /** Open connections of `tenantId`. */
  count(tenantId: string): number {
    return this.#open.get(tenantId) ?? 0;
  }

  /**
   * Admits one more connection of `tenantId` and returns the function that releases it (call it once,
   * when the socket closes), or the refusal's close reason when the tenant is at its cap.
   */
  admit(tenantId: string): (() => void) | string {
    const open = this.count(tenantId);
    if (open >= this.#max) {
      return `TOO_MANY_CONNECTIONS: the tenant has ${open} open connections; the limit is ${this.#max}`;
    }
    this.#open.set(tenantId, open + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.count(tenantId) - 1;
      if (left > 0) this.#open.set(tenantId, left);
      else this.#open.delete(tenantId);
    };
  }
}

/** The refusal of one subscription more than a connection may hold; the connection stays open. */
export function tooManySubscriptions(found: number, max: number): GraphQLError {
  return limitError(
    'TOO_MANY_SUBSCRIPTIONS',
    'subscription',
    found,
    max,
    'Complete some, or open another connection.',
  );
}
