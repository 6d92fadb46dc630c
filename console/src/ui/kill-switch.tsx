// The kill switch: one prominent button (with a confirmation that asks why), and while it is
// engaged a banner on every page naming who engaged it, when and why. The platform-wide switch the
// same way: its button for Admins of an operator tenant, its banner in every tenant.
import { useRef, useState } from 'preact/hooks';
import { ErrorNote, When } from './common.tsx';
import { useConsole, useHasRole, useLive, useQuery } from './context.ts';

interface Engagement {
  engaged: boolean;
  engagedBy: string | null;
  engagedAt: string | null;
  reason: string | null;
}

interface KillSwitchState extends Engagement {
  /** The platform-wide switch; `canChange` for Admins of an operator tenant. */
  platform: Engagement & { canChange: boolean };
}

const STATE =
  '{ killSwitch { engaged engagedBy engagedAt reason platform { engaged engagedBy engagedAt reason canChange } } }';
const CHANGED = 'subscription { killSwitchChanged { scope engaged at } }';

/** The kill switch's state, kept live. */
export function useKillSwitch() {
  const query = useQuery<{ killSwitch: KillSwitchState }>(STATE);
  useLive(CHANGED, query.reload);
  return query;
}

/** The banners every page shows while the platform-wide or the tenant's kill switch is engaged. */
export function KillSwitchBanner({
  state,
  onReleased,
}: {
  state: KillSwitchState | undefined;
  onReleased(): void;
}) {
  return (
    <>
      <PlatformBanner state={state?.platform} onReleased={onReleased} />
      <TenantBanner state={state} onReleased={onReleased} />
    </>
  );
}

function PlatformBanner({
  state,
  onReleased,
}: {
  state: KillSwitchState['platform'] | undefined;
  onReleased(): void;
}) {
  const { graph } = useConsole();
  const [error, setError] = useState<unknown>();
  if (!state?.engaged) return null;
  const release = () =>
    graph.request('mutation { releasePlatformKillSwitch { effective } }').then(onReleased, setError);
  return (
    <div class="banner" role="status" aria-live="polite" data-testid="platform-kill-switch-banner">
      <p>
        <strong>Platform-wide kill switch engaged</strong> by {state.engagedBy ?? 'a platform operator'} at{' '}
        <When at={state.engagedAt} />
        {state.reason ? `: “${state.reason}”` : ''}. Every task of every tenant is paused and no tool call
        runs.
      </p>
      {state.canChange ? (
        <button type="button" onClick={release}>
          Release the platform-wide kill switch
        </button>
      ) : (
        <p>A platform operator can release it.</p>
      )}
      {error !== undefined && <ErrorNote error={error} />}
    </div>
  );
}

function TenantBanner({ state, onReleased }: { state: KillSwitchState | undefined; onReleased(): void }) {
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

/** The engage buttons with their confirmation dialogs: the tenant's (Approvers and Admins), the platform's (operators' Admins). */
export function KillSwitchButton({
  state,
  onEngaged,
}: {
  state: KillSwitchState | undefined;
  onEngaged(): void;
}) {
  return (
    <>
      <TenantButton state={state} onEngaged={onEngaged} />
      {state?.platform.canChange && !state.platform.engaged && <PlatformButton onEngaged={onEngaged} />}
    </>
  );
}

function PlatformButton({ onEngaged }: { onEngaged(): void }) {
  return (
    <EngageButton
      id="platform-kill"
      label="Platform kill switch"
      title="Engage the platform-wide kill switch?"
      effect="Every task of every tenant pauses at once and calls in flight are aborted, until a platform operator releases it."
      why="Why (recorded in the audit log and shown to every tenant)"
      submit="Engage for every tenant"
      mutation="mutation ($reason: String!) { engagePlatformKillSwitch(reason: $reason) { effective } }"
      onEngaged={onEngaged}
    />
  );
}

function TenantButton({ state, onEngaged }: { state: KillSwitchState | undefined; onEngaged(): void }) {
  const allowed = useHasRole('Approver', 'Admin');
  if (!allowed || state?.engaged) return null;
  return (
    <EngageButton
      id="kill"
      label="Kill switch"
      title="Engage the kill switch?"
      effect="Every task of this tenant pauses at once and calls in flight are aborted, until an Admin releases it."
      why="Why (recorded in the audit log and shown to everyone)"
      submit="Engage"
      mutation="mutation ($reason: String!) { engageKillSwitch(reason: $reason) { engaged } }"
      onEngaged={onEngaged}
    />
  );
}

/** A red button opening a confirmation that asks why, then runs `mutation` with that reason. */
function EngageButton(props: {
  id: string;
  label: string;
  title: string;
  effect: string;
  why: string;
  submit: string;
  mutation: string;
  onEngaged(): void;
}) {
  const { graph } = useConsole();
  const dialog = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const engage = (event: Event) => {
    event.preventDefault();
    graph.request(props.mutation, { reason }).then(() => {
      dialog.current?.close();
      setReason('');
      props.onEngaged();
    }, setError);
  };
  return (
    <>
      <button type="button" class="kill" onClick={() => dialog.current?.showModal()}>
        {props.label}
      </button>
      <dialog ref={dialog} aria-labelledby={`${props.id}-title`}>
        <form onSubmit={engage}>
          <h2 id={`${props.id}-title`}>{props.title}</h2>
          <p>{props.effect}</p>
          <label for={`${props.id}-reason`}>{props.why}</label>
          <input
            id={`${props.id}-reason`}
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
              {props.submit}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
