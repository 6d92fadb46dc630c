import { z } from 'zod';
import { defineEvent, uuid } from '#events/catalogue.ts';

export { TaskStatusChanged } from '#contracts/events/agent.ts';

/** A task was created (read within the agent domain only). */
export const TaskCreated = defineEvent(
  'task.created',
  1,
  z.object({ taskId: uuid(), title: z.string().min(1).max(500) }),
);
