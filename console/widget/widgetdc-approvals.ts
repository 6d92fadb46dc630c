// <widgetdc-approvals>: the signed-in user's pending approval requests, live, with approve and reject.
// One ES module, Shadow DOM, styles through a constructed style sheet (no <style> or style attributes,
// so it works under a strict Content-Security-Policy), themable with --widgetdc-* custom properties,
// text set with textContent only (no HTML from data, no eval). Emits `approval-decided`.
import { type GraphClient, graphClient, type TokenProvider } from '../src/api/graphql.ts';
import { claimsOf } from '../src/auth/session.ts';

const PENDING = `{ approvalRequests(status: PENDING, first: 50) { edges { node {
  id riskLevel reason tool arguments requestedAt requestedBy requiredApprovals approvals { approver } expiresAt
  task { id title }
} } } }`;
const DECIDE = 'mutation ($input: DecideApprovalInput!) { decideApproval(input: $input) { id status } }';
const LIVE = [
  'subscription { approvalRequested { approvalId } }',
  'subscription { approvalDecided { approvalId } }',
];

interface Pending {
  id: string;
  riskLevel: string;
  reason: string;
  tool: string | null;
  arguments: unknown;
  requestedBy: string;
  requiredApprovals: number;
  approvals: { approver: string }[];
  expiresAt: string | null;
  task: { id: string; title: string };
}

/** `detail` of the `approval-decided` event. */
export interface ApprovalDecidedDetail {
  id: string;
  decision: 'APPROVE' | 'REJECT';
  /** The request's status after the decision (PENDING while more approvals are needed). */
  status: string;
  comment: string | undefined;
}

const CSS = `
:host { display: block; font-family: var(--widgetdc-font, system-ui, sans-serif); color: var(--widgetdc-color, #1b1f24);
  background: var(--widgetdc-background, #fff); border: 1px solid var(--widgetdc-border, #c4c9d0);
  border-radius: var(--widgetdc-radius, 6px); padding: var(--widgetdc-padding, 12px); }
h2 { font-size: 1rem; margin: 0 0 8px; }
ul { list-style: none; margin: 0; padding: 0; display: grid; gap: 8px; }
li { border: 1px solid var(--widgetdc-border, #c4c9d0); border-radius: var(--widgetdc-radius, 6px); padding: 8px; }
.meta { color: var(--widgetdc-muted, #464e5a); font-size: 0.85rem; margin: 2px 0; }
.risk { font-weight: 700; font-size: 0.75rem; border: 1px solid currentColor; border-radius: 10px; padding: 0 6px; }
pre { background: var(--widgetdc-panel, #f4f6f8); padding: 6px; overflow: auto; max-height: 160px; font-size: 0.8rem; margin: 4px 0; }
label { display: block; font-size: 0.85rem; font-weight: 600; margin-top: 4px; }
input { font: inherit; width: 100%; box-sizing: border-box; padding: 4px 6px; border: 1px solid var(--widgetdc-muted, #464e5a); border-radius: 4px; }
.actions { display: flex; gap: 6px; margin-top: 6px; }
button { font: inherit; padding: 4px 10px; border-radius: 4px; cursor: pointer; border: 1px solid var(--widgetdc-accent, #0b57d0); }
button.approve { background: var(--widgetdc-accent, #0b57d0); color: var(--widgetdc-on-accent, #fff); }
button.reject { background: transparent; color: var(--widgetdc-danger, #a50e0e); border-color: var(--widgetdc-danger, #a50e0e); }
button:focus-visible, input:focus-visible, pre:focus-visible { outline: 3px solid var(--widgetdc-focus, #7a3cff); outline-offset: 2px; }
.error { color: var(--widgetdc-danger, #a50e0e); }
.empty { color: var(--widgetdc-muted, #464e5a); }
`;

let sheet: CSSStyleSheet | undefined;

/** An element with properties (never innerHTML) and children (text stays text). */
function el<T extends HTMLElement = HTMLElement>(
  tag: string,
  props: Record<string, unknown> = {},
  ...children: (Node | string)[]
): T {
  const node = document.createElement(tag) as T;
  Object.assign(node, props);
  node.append(...children);
  return node;
}

/** The `<widgetdc-approvals>` element. */
export class WidgetdcApprovals extends HTMLElement {
  static observedAttributes = ['endpoint', 'heading'];
  #provider: TokenProvider | undefined;
  #client: GraphClient | undefined;
  #unsubscribe: (() => void)[] = [];
  #root: ShadowRoot;
  #list: HTMLUListElement;
  #status: HTMLParagraphElement;
  #title: HTMLHeadingElement;
  #me = '';

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
    sheet ??= (() => {
      const s = new CSSStyleSheet();
      s.replaceSync(CSS);
      return s;
    })();
    this.#root.adoptedStyleSheets = [sheet];
    this.#title = el<HTMLHeadingElement>('h2', { id: 'title' }, 'Approvals waiting for you');
    this.#status = el<HTMLParagraphElement>('p', { className: 'empty' }, 'Loading…');
    this.#status.setAttribute('role', 'status');
    this.#list = el<HTMLUListElement>('ul');
    this.#list.setAttribute('aria-labelledby', 'title');
    this.#root.append(this.#title, this.#status, this.#list);
  }

  /** The gateway's GraphQL endpoint (the `endpoint` attribute), e.g. https://api.example.com/graphql. */
  get endpoint(): string {
    return this.getAttribute('endpoint') ?? '';
  }
  set endpoint(value: string) {
    this.setAttribute('endpoint', value);
  }

  /** Returns a current access token for the signed-in user; the host owns sign-in. */
  get tokenProvider(): TokenProvider | undefined {
    return this.#provider;
  }
  set tokenProvider(provider: TokenProvider | undefined) {
    this.#provider = provider;
    this.#connect();
  }

  connectedCallback(): void {
    this.#connect();
  }
  disconnectedCallback(): void {
    this.#disconnect();
  }
  attributeChangedCallback(name: string): void {
    if (name === 'heading')
      this.#title.textContent = this.getAttribute('heading') || 'Approvals waiting for you';
    if (name === 'endpoint') this.#connect();
  }

  /** Reloads the pending requests. */
  async refresh(): Promise<void> {
    const client = this.#client;
    if (!client) return;
    try {
      const data = await client.request<{ approvalRequests: { edges: { node: Pending }[] } }>(PENDING);
      this.#render(data.approvalRequests.edges.map((e) => e.node).filter((p) => p.requestedBy !== this.#me));
    } catch (error) {
      this.#status.className = 'error';
      this.#status.textContent = `Could not load approvals: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  #connect(): void {
    this.#disconnect();
    const provider = this.#provider;
    if (!this.isConnected || !provider || !this.endpoint) return;
    const token: TokenProvider = async () => {
      const value = await provider();
      this.#me = claimsOf(value).name;
      return value;
    };
    this.#client = graphClient(this.endpoint, token);
    this.#unsubscribe = LIVE.map((q) => this.#client!.subscribe(q, {}, () => void this.refresh()));
    void this.refresh();
  }

  #disconnect(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#unsubscribe = [];
    this.#client?.close();
    this.#client = undefined;
  }

  #render(items: Pending[]): void {
    this.#status.className = 'empty';
    this.#status.textContent =
      items.length === 0 ? 'Nothing waits for your decision.' : `${items.length} waiting`;
    this.#list.replaceChildren(...items.map((item) => this.#item(item)));
  }

  #item(item: Pending): HTMLLIElement {
    const comment = el<HTMLInputElement>('input', { id: `c-${item.id}`, type: 'text' });
    const error = el('p', { className: 'error' });
    const decide = (decision: 'APPROVE' | 'REJECT') => async () => {
      for (const b of buttons) b.disabled = true;
      try {
        const text = comment.value || undefined;
        const data = await this.#client!.request<{ decideApproval: { id: string; status: string } }>(DECIDE, {
          input: { id: item.id, decision, comment: text },
        });
        const detail: ApprovalDecidedDetail = {
          id: item.id,
          decision,
          status: data.decideApproval.status,
          comment: text,
        };
        this.dispatchEvent(new CustomEvent('approval-decided', { detail, bubbles: true, composed: true }));
        await this.refresh();
      } catch (e) {
        error.textContent = e instanceof Error ? e.message : String(e);
        for (const b of buttons) b.disabled = false;
      }
    };
    const approve = el<HTMLButtonElement>(
      'button',
      { type: 'button', className: 'approve', onclick: decide('APPROVE') },
      'Approve',
    );
    const reject = el<HTMLButtonElement>(
      'button',
      { type: 'button', className: 'reject', onclick: decide('REJECT') },
      'Reject',
    );
    const buttons = [approve, reject];
    for (const b of buttons) b.setAttribute('part', `button ${b.className}`);
    const args = el('pre', { tabIndex: 0 }, JSON.stringify(item.arguments ?? {}, null, 2));
    args.setAttribute('aria-label', `arguments of ${item.tool ?? 'the call'}`);
    const children: (Node | string)[] = [
      el('strong', {}, item.tool ?? 'approval'),
      ' ',
      el('span', { className: 'risk' }, item.riskLevel),
      el('p', { className: 'meta' }, `${item.task.title} · asked by ${item.requestedBy}`),
      el(
        'p',
        { className: 'meta' },
        `${item.approvals.length} of ${item.requiredApprovals} approvals${item.expiresAt ? ` · expires ${new Date(item.expiresAt).toLocaleString()}` : ''}`,
      ),
      args,
      el('label', { htmlFor: `c-${item.id}` }, 'Comment'),
      comment,
      el('div', { className: 'actions' }, approve, reject),
      error,
    ];
    const li = el<HTMLLIElement>('li', {}, ...children);
    li.setAttribute('part', 'item');
    li.dataset.approval = item.id;
    return li;
  }
}

if (!customElements.get('widgetdc-approvals')) customElements.define('widgetdc-approvals', WidgetdcApprovals);
