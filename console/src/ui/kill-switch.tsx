// The kill switch: one prominent button (with a confirmation that asks why), and while it is
// engaged a banner on every page naming who engaged it, when and why.
import { useRef, useState } from 'preact/hooks';
import { ErrorNote, When } from './common.tsx';
import { useConsole, useHasRole, useLive, useQuery } from './context.ts';

interface KillSwitchState {
  engaged: boolean;
  engagedBy: string | null;
  engagedAt: string | null;
  reason: string | null;
}

const STATE = '{ killSwitch { engaged engagedBy engagedAt reason } }';
const CHANGED = 'subscription { killSwitchChanged { engaged at } }';

/** The kill switch's state, kept live. */
export function useKillSwitch() {
  const query = useQuery<{ killSwitch: KillSwitchState }>(STATE);
  useLive(CHANGED, query.reload);
  return query;
}

/** The banner every page shows while the kill switch is engaged. */
export function KillSwitchBanner({
  state,
  onReleased,
}: {
  state: KillSwitchState | undefined;
  onReleased(): void;
}) {
  const { graph } = useConsole();
  const admin = useHasRole('Admin');
  const [error, setError] = useState<unknown>();
  if (!state?.engaged) return null;
  const release = () =>
    graph.request('mutation { releaseKillSwitch { engaged } }').then(onReleased, setError);
  return (
    <div class="banner" role="status" aria-live="polite" data-testid="kill-switch-banner">
      <p>
        <strong>Kill switch engaged</strong> by {state.engagedBy ?? 'unknown'} at{' '}
        <When at={state.engagedAt} />
        {state.reason ? `: “${state.reason}”` : ''}. Every task of this tenant is paused and no tool call
        runs.
      </p>
      {admin ? (
        <button type="button" onClick={release}>
          Release the kill switch
        </button>
      ) : (
        <p>An Admin can release it.</p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </div>
  );
}

/** The engage button with its confirmation dialog (Approvers and Admins). */
export function KillSwitchButton({
  state,
  onEngaged,
}: {
  state: KillSwitchState | undefined;
  onEngaged(): void;
}) {
  const { graph } = useConsole();
  const allowed = useHasRole('Approver', 'Admin');
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  if (!allowed || state?.engaged) return null;
  const engage = (event: Event) => {
    event.preventDefault();
    graph
      .request('mutation ($reason: String!) { engageKillSwitch(reason: $reason) { engaged } }', { reason })
      .then(() => {
        dialog.current?.close();
        setReason('');
        onEngaged();
      }, setError);
  };
  return (
    <>
      <button type="button" class="kill" onClick={() => dialog.current?.showModal()}>
        Kill switch
      </button>
      <dialog ref={dialog} aria-labelledby="kill-title">
        <form onSubmit={engage}>
          <h2 id="kill-title">Engage the kill switch?</h2>
          <p>
            Every task of this tenant pauses at once and calls in flight are aborted, until an Admin releases
            it.
          </p>
          <label for="kill-reason">Why (recorded in the audit log and shown to everyone)</label>
          <input
            id="kill-reason"
            required
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
          {error !== undefined && <ErrorNote error={error} />}
          <div class="actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" class="kill">
              Engage
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
