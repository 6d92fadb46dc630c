// Types of <widgetdc-approvals> (console/widget/widgetdc-approvals.js, served at /console/widgetdc-approvals.js).

/** Returns a current access token (a bearer token for the gateway) for the signed-in user. */
export type TokenProvider = () => Promise<string>;

/** `detail` of the `approval-decided` event. */
export interface ApprovalDecidedDetail {
  id: string;
  decision: 'APPROVE' | 'REJECT';
  /** The request's status after the decision (PENDING while more approvals are needed). */
  status: string;
  comment: string | undefined;
}

/**
 * The signed-in user's pending approval requests, live, with approve and reject. Attributes: `endpoint`
 * (the gateway's GraphQL URL), `heading`. Themable with `--widgetdc-font`, `--widgetdc-color`,
 * `--widgetdc-background`, `--widgetdc-border`, `--widgetdc-radius`, `--widgetdc-padding`, `--widgetdc-muted`,
 * `--widgetdc-panel`, `--widgetdc-accent`, `--widgetdc-on-accent`, `--widgetdc-danger`, `--widgetdc-focus`, and
 * the parts `item`, `button`, `approve`, `reject`.
 */
export declare class WidgetdcApprovals extends HTMLElement {
  static observedAttributes: string[];
  endpoint: string;
  tokenProvider: TokenProvider | undefined;
  /** Reloads the pending requests. */
  refresh(): Promise<void>;
  addEventListener<K extends keyof WidgetdcApprovalsEventMap>(
    type: K,
    listener: (this: WidgetdcApprovals, event: WidgetdcApprovalsEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
}

/** Events of <widgetdc-approvals>. */
export interface WidgetdcApprovalsEventMap extends HTMLElementEventMap {
  'approval-decided': CustomEvent<ApprovalDecidedDetail>;
}

declare global {
  interface HTMLElementTagNameMap {
    'widgetdc-approvals': WidgetdcApprovals;
  }
}
