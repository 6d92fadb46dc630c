// The approvals inbox: pending requests live (approvalRequested / approvalDecided), each with its tool,
// full arguments, risk, task and requester, N-of-M progress, an expiry countdown and approve/reject.
import { useState } from 'preact/hooks';
import { Badge, Empty, ErrorNote, Json, When } from '../ui/common.tsx';
import { useConsole, useHasRole, useLive, useNow, useQuery } from '../ui/context.ts';

/** An approval request as the inbox shows it. */
export interface Approval {
  id: string;
  status: string;
  riskLevel: string;
  reason: string;
  tool: string | null;
  arguments: Record<string, unknown> | null;
  requestedAt: string;
  requestedBy: string;
  requiredApprovals: number;
  approvals: { approver: string; at: string; comment: string | null }[];
  expiresAt: string | null;
  decidedBy: string | null;
  decisionComment: string | null;
  task: { id: string; title: string; status: string };
}

export const APPROVALS = `query ($status: ApprovalStatus) {
  approvalRequests(status: $status, first: 50) { edges { node {
    id status riskLevel reason tool arguments requestedAt requestedBy requiredApprovals
    approvals { approver at comment } expiresAt decidedBy decisionComment task { id title status }
  } } }
}`;
export const REQUESTED = 'subscription { approvalRequested { approvalId } }';
export const DECIDED = 'subscription { approvalDecided { approvalId } }';

/** "4 min 05 s left" until `at`, or "expired". */
export function countdown(at: string | null, now: number): string {
  if (!at) return 'no expiry';
  const left = Math.floor((new Date(at).getTime() - now) / 1000);
  if (left <= 0) return 'expired';
  const h = Math.floor(left / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = String(left % 60).padStart(2, '0');
  return h > 0 ? `${h} h ${m} min left` : `${m} min ${s} s left`;
}

export function ApprovalsPage() {
  const [status, setStatus] = useState('PENDING');
  const { data, error, loading, reload } = useQuery<{ approvalRequests: { edges: { node: Approval }[] } }>(
    APPROVALS,
    { status },
  );
  useLive(REQUESTED, reload);
  useLive(DECIDED, reload);
  const items = data?.approvalRequests.edges.map((e) => e.node) ?? [];
  return (
    <section aria-labelledby="approvals-title">
      <div class="page-head">
        <h1 id="approvals-title">Approvals</h1>
        <label>
          Show{' '}
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            {['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'].map((s) => (
              <option value={s}>{s.toLowerCase()}</option>
            ))}
          </select>
        </label>
      </div>
      <p class="hint">New requests appear here as agents ask; nothing needs reloading.</p>
      {error !== undefined && <ErrorNote error={error} retry={reload} />}
      {!loading && !error && items.length === 0 && (
        <Empty
          title={
            status === 'PENDING' ? 'Nothing waits for a decision.' : `No ${status.toLowerCase()} requests.`
          }
        >
          <p>When a task reaches a HIGH-risk tool call, its request shows up here at once.</p>
        </Empty>
      )}
      <ul class="cards" aria-label="approval requests">
        {items.map((a) => (
          <ApprovalCard key={a.id} approval={a} onDecided={reload} />
        ))}
      </ul>
    </section>
  );
}

function ApprovalCard({ approval, onDecided }: { approval: Approval; onDecided(): void }) {
  const { graph, session, navigate } = useConsole();
  const canDecide = useHasRole('Approver', 'Admin');
  const now = useNow();
  const [comment, setComment] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const own = approval.requestedBy === session.claims.name;
  const decide = (decision: 'APPROVE' | 'REJECT') => {
    setBusy(true);
    graph
      .request('mutation ($input: DecideApprovalInput!) { decideApproval(input: $input) { id status } }', {
        input: { id: approval.id, decision, comment: comment || undefined },
      })
      .then(onDecided, (e: unknown) => {
        setError(e);
        setBusy(false);
      });
  };
  const titleId = `approval-${approval.id}`;
  return (
    <li class="card" aria-labelledby={titleId} data-approval={approval.id}>
      <h2 id={titleId}>
        {approval.tool ?? 'task approval'} <Badge value={approval.riskLevel} />{' '}
        <Badge value={approval.status} />
      </h2>
      <dl>
        <dt>Task</dt>
        <dd>
          <a
            href={`/console/tasks/${approval.task.id}`}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/console/tasks/${approval.task.id}`);
            }}
          >
            {approval.task.title}
          </a>{' '}
          <Badge value={approval.task.status} />
        </dd>
        <dt>Asked by</dt>
        <dd>
          {approval.requestedBy}, <When at={approval.requestedAt} />
        </dd>
        <dt>Why</dt>
        <dd>{approval.reason}</dd>
        <dt>Approvals</dt>
        <dd>
          <span data-testid="progress">
            {approval.approvals.length} of {approval.requiredApprovals}
          </span>
          {approval.approvals.map((v) => (
            <span class="vote">
              {' '}
              · {v.approver}
              {v.comment ? ` (“${v.comment}”)` : ''}
            </span>
          ))}
        </dd>
        {approval.status === 'PENDING' && (
          <>
            <dt>Expires</dt>
            <dd>
              <When at={approval.expiresAt} />{' '}
              <span class="countdown">({countdown(approval.expiresAt, now)})</span>
            </dd>
          </>
        )}
        {approval.decidedBy && (
          <>
            <dt>Decided by</dt>
            <dd>
              {approval.decidedBy}
              {approval.decisionComment ? `: “${approval.decisionComment}”` : ''}
            </dd>
          </>
        )}
      </dl>
      <h3>Arguments</h3>
      <Json value={approval.arguments ?? {}} label={`arguments of ${approval.tool ?? 'the call'}`} />
      {approval.status === 'PENDING' && canDecide && !own && (
        <div class="decide">
          <label for={`comment-${approval.id}`}>Comment (optional)</label>
          <textarea
            id={`comment-${approval.id}`}
            rows={2}
            value={comment}
            onInput={(e) => setComment((e.target as HTMLTextAreaElement).value)}
          />
          <div class="actions">
            <button type="button" class="primary" disabled={busy} onClick={() => decide('APPROVE')}>
              Approve
            </button>
            <button type="button" class="danger" disabled={busy} onClick={() => decide('REJECT')}>
              Reject
            </button>
          </div>
        </div>
      )}
      {approval.status === 'PENDING' && own && (
        <p class="hint">You asked for this one: another approver decides it.</p>
      )}
      {approval.status === 'PENDING' && !canDecide && (
        <p class="hint">Deciding needs the Approver or Admin role.</p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </li>
  );
}
