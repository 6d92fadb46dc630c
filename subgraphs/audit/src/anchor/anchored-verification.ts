import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type ChainFinding,
  type ChainSpan,
  hashesAt,
  movedIntoRange,
  scanSpan,
} from '../domain/audit-chain.ts';
import type { ChainAnchor } from './chain-anchor.ts';
import type { Checkpoint } from './checkpoint.ts';

/** Most problems one verification lists. */
export const MAX_FINDINGS = 20;

/** The outcome of checking a tenant's chain against itself and against its signed checkpoints. */
export interface AnchoredVerification {
  ok: boolean;
  checked: number;
  /** Every problem found, by sequence number (at most {@link MAX_FINDINGS}). */
  findings: ChainFinding[];
  /** The row of the first finding, when it still exists. */
  firstBrokenId: string | null;
  /** Valid checkpoints read. */
  checkpoints: number;
  /** Rows up to this sequence number match a signed checkpoint. */
  anchoredThrough: number | null;
  lastCheckpointAt: Date | null;
}

/**
 * Verifies the transaction's tenant's chain in [from, to) (whole when both are absent). The rows
 * checked are chosen by sequence number between the signed checkpoints that enclose the range, so
 * a row whose time was moved is still read; every checkpoint in that span must match the chain
 * (a recomputed chain differs at the first checkpoint after the edit), the newest checkpoint's row
 * must still exist (a deleted tail), and every stored checkpoint line must carry a valid signature
 * of this tenant's head.
 */
export async function verifyAnchoredChain(
  em: EntityManager,
  tenantId: string,
  anchor: ChainAnchor | null,
  from: Date | null,
  to: Date | null,
): Promise<AnchoredVerification> {
  const { valid, bad } = anchor ? await anchor.checkpoints(tenantId) : { valid: [], bad: [] };
  const findings: (ChainFinding & { rowId?: string })[] = bad.map((line) => ({
    kind: 'FORGED_CHECKPOINT',
    sequence: line.claimedSeq,
    message: `line ${line.line} of the tenant's checkpoint record ${line.reason}: it was not written by the audit service`,
  }));

  const ranged = from !== null || to !== null;
  const before = from ? valid.filter((c) => c.at < from).at(-1) : undefined;
  const after = to ? valid.find((c) => c.at >= to) : undefined;
  const span: ChainSpan = {
    fromSeq: before?.seq ?? 1,
    toSeq: after?.seq ?? null,
    range: ranged ? { from, to } : null,
  };

  const scan = await scanSpan(em, span);
  if (scan.finding) findings.push(scan.finding);
  if (span.range) {
    const moved = await movedIntoRange(em, { ...span, range: span.range });
    if (moved) findings.push(moved);
  }

  const [max] = await em.execute<{ seq: string | null }[]>('select max(seq) as seq from audit.audit_events');
  const maxSeq = Number(max?.seq ?? 0);
  const newest = valid.at(-1);
  if (newest && newest.seq > maxSeq) {
    findings.push({
      kind: 'DELETED_TAIL',
      sequence: maxSeq + 1,
      message:
        `the chain ends at sequence ${maxSeq}, but it had reached sequence ${newest.seq} when checkpointed at ` +
        `${newest.checkpointedAt.toISOString()}: rows ${maxSeq + 1} to ${newest.seq} were deleted`,
    });
  }

  const inSpan = valid.filter((c) => c.seq >= span.fromSeq && (span.toSeq === null || c.seq <= span.toSeq));
  const compared = await compareCheckpoints(em, inSpan, maxSeq);
  if (compared.finding) findings.push(compared.finding);

  findings.sort(
    (a, b) => (a.sequence ?? Number.POSITIVE_INFINITY) - (b.sequence ?? Number.POSITIVE_INFINITY),
  );
  preferNamedRow(findings, compared.rewrittenThrough);
  const first = findings[0];
  let firstBrokenId = first?.rowId ?? null;
  if (first && !firstBrokenId && first.sequence !== null) {
    const [row] = await em.execute<{ id: string }[]>('select id from audit.audit_events where seq = ?', [
      first.sequence,
    ]);
    firstBrokenId = row?.id ?? null;
  }
  return {
    ok: findings.length === 0,
    checked: scan.checked,
    findings: findings
      .slice(0, MAX_FINDINGS)
      .map(({ kind, sequence, message }) => ({ kind, sequence, message })),
    firstBrokenId,
    checkpoints: valid.length,
    anchoredThrough: compared.anchoredThrough,
    lastCheckpointAt: newest?.checkpointedAt ?? null,
  };
}

/**
 * Compares checkpoints (by sequence number) with the rows' hashes. The first that differs ends the
 * comparison: the rows after the last matching checkpoint, up to it, were rewritten.
 */
async function compareCheckpoints(
  em: EntityManager,
  checkpoints: Checkpoint[],
  maxSeq: number,
): Promise<{
  finding: ChainFinding | null;
  anchoredThrough: number | null;
  rewrittenThrough: number | null;
}> {
  const present = checkpoints.filter((c) => c.seq <= maxSeq);
  const hashes = await hashesAt(
    em,
    present.map((c) => c.seq),
  );
  let anchoredThrough: number | null = null;
  for (const checkpoint of present) {
    const hash = hashes.get(checkpoint.seq);
    if (hash === undefined) {
      return {
        anchoredThrough,
        rewrittenThrough: null,
        finding: {
          kind: 'MISSING_ROWS',
          sequence: checkpoint.seq,
          message: `the checkpointed row ${checkpoint.seq} is gone`,
        },
      };
    }
    if (hash !== checkpoint.hash) {
      const firstBad = (anchoredThrough ?? 0) + 1;
      const rows =
        firstBad === checkpoint.seq
          ? `row ${firstBad} was`
          : `a row from ${firstBad} to ${checkpoint.seq} was`;
      return {
        anchoredThrough,
        rewrittenThrough: checkpoint.seq,
        finding: {
          kind: 'RECOMPUTED_CHAIN',
          sequence: firstBad,
          message:
            `the hash of sequence ${checkpoint.seq} differs from its checkpoint of ` +
            `${checkpoint.checkpointedAt.toISOString()}: ${rows} rewritten and the later hashes recomputed`,
        },
      };
    }
    anchoredThrough = checkpoint.seq;
  }
  return { anchoredThrough, rewrittenThrough: null, finding: null };
}

/**
 * A recomputed chain is only known to have been rewritten somewhere between two checkpoints; when a
 * finding inside that stretch names the row itself (a moved time), that row comes first.
 */
function preferNamedRow(findings: ChainFinding[], rewrittenThrough: number | null): void {
  const first = findings[0];
  if (first?.kind !== 'RECOMPUTED_CHAIN' || rewrittenThrough === null || first.sequence === null) return;
  const lower = first.sequence;
  const named = findings.findIndex(
    (f) => f !== first && f.sequence !== null && f.sequence >= lower && f.sequence <= rewrittenThrough,
  );
  if (named > 0) findings.unshift(...findings.splice(named, 1));
}
