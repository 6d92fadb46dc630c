import { z } from 'zod';
import { NotFoundError } from '#kernel/errors.ts';
import { uuidSchema } from '#kernel/ids.ts';
import { Note } from '../domain/note.entity.ts';
import { defineTool, type ToolDefinition } from './tool.ts';

/** `notes.create`, `notes.update` (MEDIUM: writes) and `notes.delete` (HIGH: deletes). */
export function notesTools(): ToolDefinition[] {
  const title = z.string().trim().min(1).max(500);
  const body = z.string().max(100_000);
  return [
    defineTool({
      name: 'notes.create',
      description: 'Writes a new note owned by the task owner.',
      riskLevel: 'MEDIUM',
      input: z.object({ title, body: body.default('') }),
      async run(input, ctx) {
        const note = Note.write(ctx.tenantId, ctx.owner, input.title, input.body);
        ctx.em.persist(note);
        await ctx.em.flush();
        return { noteId: note.id };
      },
    }),
    defineTool({
      name: 'notes.update',
      description: 'Changes the title or body of a note.',
      riskLevel: 'MEDIUM',
      input: z.object({ id: uuidSchema(), title: title.optional(), body: body.optional() }),
      async run(input, ctx) {
        const note = await ctx.em.findOne(Note, { id: input.id });
        if (!note) throw new NotFoundError(`Note ${input.id} does not exist`, { id: input.id });
        if (input.title !== undefined) note.title = input.title;
        if (input.body !== undefined) note.body = input.body;
        note.updatedAt = new Date();
        await ctx.em.flush();
        return { noteId: note.id };
      },
    }),
    defineTool({
      name: 'notes.delete',
      description: 'Deletes a note for good.',
      riskLevel: 'HIGH',
      input: z.object({ id: uuidSchema() }),
      async run(input, ctx) {
        const note = await ctx.em.findOne(Note, { id: input.id });
        if (!note) return { noteId: input.id, deleted: false };
        ctx.em.remove(note);
        await ctx.em.flush();
        return { noteId: input.id, deleted: true };
      },
    }),
  ];
}
