import type { AnchorKey } from './anchor-key.ts';

/** A chain head as it was when checkpointed: what a signature vouches for. */
export interface ChainHead {
  tenantId: string;
  /** Sequence number of the tenant's newest row. */
  seq: number;
  /** That row's hash. */
  hash: string;
  /** That row's time. */
  at: Date;
}

/** A signed checkpoint, as stored (one JSON line). */
export interface Checkpoint extends ChainHead {
  checkpointedAt: Date;
  keyId: string;
  /** Base64 Ed25519 signature of {@link checkpointPayload}. */
  signature: string;
}

/** Format version of a stored checkpoint line. */
export const CHECKPOINT_VERSION = 1;

/** The exact text a checkpoint's signature covers; the tenant is part of it, so a record cannot move between tenants. */
export function checkpointPayload(c: Omit<Checkpoint, 'signature'>): string {
  return [
    `widgetdc-audit-checkpoint/v${CHECKPOINT_VERSION}`,
    c.tenantId,
    String(c.seq),
    c.hash,
    c.at.toISOString(),
    c.checkpointedAt.toISOString(),
    c.keyId,
  ].join('\n');
}

/** Signs a chain head now. */
export function signCheckpoint(head: ChainHead, key: AnchorKey, now = new Date()): Checkpoint {
  const unsigned = { ...head, checkpointedAt: now, keyId: key.keyId };
  return { ...unsigned, signature: key.sign(checkpointPayload(unsigned)) };
}

/** A checkpoint as one JSON line (without the newline). */
export function toCheckpointLine(c: Checkpoint): string {
  return JSON.stringify({
    v: CHECKPOINT_VERSION,
    tenantId: c.tenantId,
    seq: c.seq,
    hash: c.hash,
    at: c.at.toISOString(),
    checkpointedAt: c.checkpointedAt.toISOString(),
    keyId: c.keyId,
    signature: c.signature,
  });
}

/** One stored line, read back: a checkpoint this key signed for this tenant, or why not. */
export type CheckedLine =
  | { ok: true; line: number; checkpoint: Checkpoint }
  | { ok: false; line: number; claimedSeq: number | null; reason: string };

/** Parses and authenticates one stored line of `tenantId`'s checkpoint file. */
export function checkCheckpointLine(
  text: string,
  line: number,
  tenantId: string,
  key: AnchorKey,
): CheckedLine {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return { ok: false, line, claimedSeq: null, reason: 'is not JSON' };
  }
  const claimedSeq = Number.isSafeInteger(raw?.seq) && (raw.seq as number) > 0 ? (raw.seq as number) : null;
  const fail = (reason: string): CheckedLine => ({ ok: false, line, claimedSeq, reason });
  if (typeof raw !== 'object' || raw === null || raw.v !== CHECKPOINT_VERSION)
    return fail('has no known format');
  const { seq, hash, at, checkpointedAt, keyId, signature } = raw;
  if (
    claimedSeq === null ||
    typeof hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(hash) ||
    typeof at !== 'string' ||
    typeof checkpointedAt !== 'string' ||
    typeof keyId !== 'string' ||
    typeof signature !== 'string'
  ) {
    return fail('lacks a field');
  }
  if (raw.tenantId !== tenantId) return fail(`belongs to another tenant (${String(raw.tenantId)})`);
  if (keyId !== key.keyId) return fail(`names another key (${keyId}, expected ${key.keyId})`);
  const checkpoint: Checkpoint = {
    tenantId,
    seq: seq as number,
    hash,
    at: new Date(at),
    checkpointedAt: new Date(checkpointedAt),
    keyId,
    signature,
  };
  if (Number.isNaN(checkpoint.at.getTime()) || Number.isNaN(checkpoint.checkpointedAt.getTime())) {
    return fail('has an invalid time');
  }
  if (!key.verify(checkpointPayload(checkpoint), signature)) return fail('has no valid signature');
  return { ok: true, line, checkpoint };
}
