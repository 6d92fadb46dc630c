// The example host's script. A real host gets tokens from its own sign-in (e.g. MSAL's
// acquireTokenSilent for the API's scope); this example, run under `npm start`, mints development
// tokens for the user named in `?user=` (default ann, role Approver) from the console's dev sign-in.
import type { WidgetdcApprovals } from '../widget/widgetdc-approvals.ts';

const params = new URLSearchParams(location.search);
const user = params.get('user') ?? 'ann';
const endpoint = params.get('endpoint');
let cached: { token: string; exp: number } | undefined;

async function token(): Promise<string> {
  if (cached && cached.exp - Date.now() > 60_000) return cached.token;
  const response = await fetch(new URL('/console/dev-token', endpoint ?? location.href), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: params.get('tenant') ?? 'demo', user, roles: ['Approver'] }),
  });
  const body = (await response.json()) as { token: string; expiresIn: number };
  cached = { token: body.token, exp: Date.now() + body.expiresIn * 1000 };
  return body.token;
}

const widget = document.querySelector('widgetdc-approvals') as WidgetdcApprovals;
if (endpoint) widget.endpoint = endpoint;
widget.tokenProvider = token;
widget.addEventListener('approval-decided', (event) => {
  const { id, decision, status } = (event as CustomEvent<{ id: string; decision: string; status: string }>)
    .detail;
  const item = document.createElement('li');
  item.textContent = `${decision === 'APPROVE' ? 'Approved' : 'Rejected'} ${id} (now ${status})`;
  document.getElementById('decisions')?.append(item);
});
