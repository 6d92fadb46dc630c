import type { Logger } from '../../logger.ts';

/** Options of `guardSchema`. */
export interface GuardOptions {
  /** Prefix of audit actions, e.g. `agent` → `agent.createTask`. */
  subgraph: string;
  logger?: Logger;
  /**
   * Client ids of the platform's own service identities (app-only tokens): only they may read the
   * subgraph's SDL through `_service`. Empty: nobody may.
   */
  serviceClientIds?: readonly string[];
}
