import { createHash } from 'node:crypto';
import type { AnchorKey } from './anchor-key.ts';
import type { AnchorStore } from './anchor-store.ts';
import {
  type ChainHead,
  type CheckedLine,
  type Checkpoint,
  checkCheckpointLine,
  signCheckpoint,
} from './checkpoint.ts';

/** A stored line that is not a checkpoint of this tenant signed by this key. */
export type BadCheckpointLine = Extract<CheckedLine, { ok: false }>;

/** A tenant's stored checkpoints, authenticated. */
export interface TenantCheckpoints {
  /** Valid checkpoints by sequence number (one per number). */
  valid: Checkpoint[];
  bad: BadCheckpointLine[];
}

/**
 * The anchor of every tenant's chain: signs chain heads with a key the database never holds and
 * appends them to a store the database cannot write. Remembers each tenant's newest checkpoint it
 * has seen, so a checkpoint round does not reread whole records.
 */
export class ChainAnchor {
  readonly key: AnchorKey;
  readonly store: AnchorStore;
  readonly #latest = new Map<string, Checkpoint | null>();
  /** Per tenant: how many lines were authenticated, their digest, and the results. */
  readonly #checked = new Map<string, { count: number; digest: string; results: CheckedLine[] }>();

  constructor(key: AnchorKey, store: AnchorStore) {
    this.key = key;
    this.store = store;
  }

  /**
   * Reads and authenticates every stored line of the tenant's record. Signatures are checked once per
   * process: when the lines read before are still there byte for byte (their digest matches), only
   * the lines appended since are checked.
   */
  async checkpoints(tenantId: string): Promise<TenantCheckpoints> {
    const lines = await this.store.lines(tenantId);
    const known = this.#checked.get(tenantId);
    const reuse = known && known.count <= lines.length && digest(lines, known.count) === known.digest;
    const results: CheckedLine[] = reuse ? [...known.results] : [];
    for (let index = results.length; index < lines.length; index++) {
      results.push(checkCheckpointLine(lines[index]!, index + 1, tenantId, this.key));
    }
    this.#checked.set(tenantId, { count: lines.length, digest: digest(lines, lines.length), results });
    const bySeq = new Map<number, Checkpoint>();
    const bad: BadCheckpointLine[] = [];
    for (const checked of results) {
      if (!checked.ok) bad.push(checked);
      else if (!bySeq.has(checked.checkpoint.seq)) bySeq.set(checked.checkpoint.seq, checked.checkpoint);
    }
    const valid = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
    this.#latest.set(tenantId, valid.at(-1) ?? null);
    return { valid, bad };
  }

  /** The tenant's newest valid checkpoint (read once per process, then remembered). */
  async latest(tenantId: string): Promise<Checkpoint | null> {
    if (!this.#latest.has(tenantId)) await this.checkpoints(tenantId);
    return this.#latest.get(tenantId) ?? null;
  }

  /**
   * The tenant's newest valid checkpoint as the store holds it now: read again, since another
   * replica sharing the store may have appended since this process last looked (only the new lines'
   * signatures are checked).
   */
  async current(tenantId: string): Promise<Checkpoint | null> {
    return (await this.checkpoints(tenantId)).valid.at(-1) ?? null;
  }

  /** Signs `head` and appends it. */
  async record(head: ChainHead, now = new Date()): Promise<Checkpoint> {
    const checkpoint = signCheckpoint(head, this.key, now);
    await this.store.append(checkpoint);
    const latest = this.#latest.get(head.tenantId);
    if (!latest || latest.seq < checkpoint.seq) this.#latest.set(head.tenantId, checkpoint);
    return checkpoint;
  }
}

/** SHA-256 over the first `count` lines, each with its newline. */
function digest(lines: string[], count: number): string {
  const hash = createHash('sha256');
  for (let i = 0; i < count; i++) hash.update(lines[i]!).update('\n');
  return hash.digest('hex');
}
