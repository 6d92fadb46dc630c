// Enums that appear in more than one schema (subgraph SDL, the gateway's subscription SDL, event
// payloads, database checks). Defined once here; contracts/test/enums.test.ts fails when an SDL
// enum of the same name differs.

/** Every status a task can be in (SDL enum `TaskStatus`). */
export const TASK_STATUSES = [
  'PENDING',
  'RUNNING',
  'WAITING_FOR_APPROVAL',
  'PAUSED',
  'COMPLETED',
  'FAILED',
  'CANCELLED',
] as const;

/** A task status. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** How dangerous a tool call is: SAFE runs, MEDIUM runs and is logged, HIGH waits for a human (SDL `RiskLevel`). */
export const RISK_LEVELS = ['SAFE', 'MEDIUM', 'HIGH'] as const;

/** A risk level. */
export type RiskLevel = (typeof RISK_LEVELS)[number];

/** Where an approval request is (SDL `ApprovalStatus`). */
export const APPROVAL_STATUSES = ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED'] as const;

/** An approval status. */
export type ApprovalStatus = (typeof APPROVAL_STATUSES)[number];

/** What a human answers to a request (SDL input enum `ApprovalDecision`). */
export const APPROVAL_ANSWERS = ['APPROVE', 'REJECT'] as const;

/** What a human answers. */
export type ApprovalAnswer = (typeof APPROVAL_ANSWERS)[number];

/** How a decided request ended (SDL `ApprovalOutcome`, the `approval.decided` payload's `decision`). */
export const APPROVAL_DECISIONS = ['APPROVED', 'REJECTED'] as const;

/** An approval decision. */
export type ApprovalDecision = (typeof APPROVAL_DECISIONS)[number];

/** Where one step of a task is (SDL `StepStatus`, the `task.step_completed` payload's `status`). */
export const STEP_STATUSES = [
  'PENDING',
  'RUNNING',
  'WAITING_FOR_APPROVAL',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
  'EXPIRED',
  'CANCELLED',
] as const;

/** A step status. */
export type StepStatus = (typeof STEP_STATUSES)[number];

/** Where a document is in ingestion (SDL `DocumentStatus`): QUEUED → PARSING → EMBEDDING → READY, or FAILED. */
export const DOCUMENT_STATUSES = ['QUEUED', 'PARSING', 'EMBEDDING', 'READY', 'FAILED'] as const;

/** A document status. */
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

/** SDL enum name → the values it must have, wherever it is declared. */
export const SHARED_ENUMS: Readonly<Record<string, readonly string[]>> = {
  TaskStatus: TASK_STATUSES,
  RiskLevel: RISK_LEVELS,
  ApprovalStatus: APPROVAL_STATUSES,
  ApprovalDecision: APPROVAL_ANSWERS,
  ApprovalOutcome: APPROVAL_DECISIONS,
  StepStatus: STEP_STATUSES,
  DocumentStatus: DOCUMENT_STATUSES,
};
