import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';
import type { ChatMessage } from '#llm/chat.ts';

const TaskMessageSchema = defineEntity({
  name: 'TaskMessage',
  schema: 'agent',
  tableName: 'task_messages',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    taskId: p.uuid(),
    seq: p.integer(),
    message: p.json<ChatMessage>(),
    /** The step whose result this tool message carries. */
    stepId: p.uuid().nullable(),
    createdAt: p.datetime(3),
  },
});

/**
 * One message of the conversation between the LLM planner and the model, in order (append-only):
 * another runner rebuilds the conversation from these rows and resumes it.
 */
export class TaskMessage extends TaskMessageSchema.class {
  /** The message at position `seq` of the task's conversation. */
  static of(
    task: { id: string; tenantId: string },
    seq: number,
    message: ChatMessage,
    stepId: string | null = null,
  ): TaskMessage {
    const row = new TaskMessage();
    row.id = randomUUID();
    row.tenantId = task.tenantId;
    row.taskId = task.id;
    row.seq = seq;
    row.message = message;
    row.stepId = stepId;
    row.createdAt = new Date();
    return row;
  }
}

TaskMessageSchema.setClass(TaskMessage);

export { TaskMessageSchema };
