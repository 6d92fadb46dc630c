// Every event the governance domain publishes crosses a boundary, so all are contracts.
export {
  ApprovalDecided,
  ApprovalExpired,
  ApprovalRequested,
  KillSwitchChanged,
} from '#contracts/events/governance.ts';
