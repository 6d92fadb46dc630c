// Resolver types for each subgraph, generated from its schema.graphql into an ignored
// src/__generated__/ folder (npm run codegen; npm run typecheck runs it first).
import type { CodegenConfig } from '@graphql-codegen/cli';

const mappers: Record<string, Record<string, string>> = {
  knowledge: {
    Document: '../domain/document.entity.ts#Document as DocumentEntity',
    Chunk: '../search/chunk-view.ts#ChunkView',
    SearchHit: '../search/search.service.ts#SearchHitView',
    Answer: '../answer/ask.service.ts#AnswerView',
    Citation: '../answer/ask.service.ts#CitationView',
  },
  agent: {
    Task: '../domain/task.entity.ts#Task as TaskEntity',
    TaskStep: '../domain/task-step.entity.ts#TaskStep as TaskStepEntity',
    ToolPolicy: '../domain/tool-policy.entity.ts#ToolPolicy as ToolPolicyEntity',
    SentMail: '../domain/sent-mail.entity.ts#SentMail as SentMailEntity',
    Note: '../domain/note.entity.ts#Note as NoteEntity',
  },
  governance: {
    ApprovalRequest: '../domain/approval-request.entity.ts#ApprovalRequest as ApprovalRequestEntity',
    KillSwitch: '../resolvers/KillSwitch.ts#KillSwitchView',
    Task: '{ id: string }',
  },
  audit: {
    AuditEvent: '../domain/audit-event.entity.ts#AuditEvent as AuditEventEntity',
    Trace: '../observability/trace-store.ts#TraceSummary as TraceSummaryModel',
    EvalRun: '../observability/eval-run-store.ts#EvalRunView as EvalRunModel',
    EvalRunComparison: '../observability/eval-compare.ts#EvalRunComparison as EvalRunComparisonModel',
  },
};

const config: CodegenConfig = {
  overwrite: true,
  silent: true,
  generates: Object.fromEntries(
    Object.entries(mappers).map(([name, typeMappers]) => [
      `subgraphs/${name}/src/__generated__/resolvers-types.ts`,
      {
        schema: `subgraphs/${name}/schema.graphql`,
        plugins: ['typescript', 'typescript-resolvers'],
        config: {
          federation: true,
          useTypeImports: true,
          enumsAsTypes: true,
          // Relative: the path's leading '#' of the subpath import would be read as the type separator.
          contextType: '../../../../kernel/src/graphql/context.ts#RequestContext',
          scalars: { DateTime: 'Date', JSONObject: 'Record<string, unknown>' },
          mappers: typeMappers,
          useIndexSignature: true,
        },
      },
    ]),
  ),
};

export default config;
