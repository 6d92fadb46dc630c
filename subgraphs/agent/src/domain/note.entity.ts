import { randomUUID } from 'node:crypto';
import { defineEntity, p } from '@mikro-orm/postgresql';

const NoteSchema = defineEntity({
  name: 'Note',
  schema: 'agent',
  tableName: 'notes',
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    title: p.text(),
    body: p.text(),
    createdBy: p.uuid(),
    createdByName: p.text(),
    createdAt: p.datetime(3),
    updatedAt: p.datetime(3),
  },
});

/** A note an agent writes for the task owner (agent's own table until knowledge has notes). */
export class Note extends NoteSchema.class {
  /** A new note by `owner`. */
  static write(tenantId: string, owner: { id: string; name: string }, title: string, body: string): Note {
    const note = new Note();
    const now = new Date();
    note.id = randomUUID();
    note.tenantId = tenantId;
    note.title = title;
    note.body = body;
    note.createdBy = owner.id;
    note.createdByName = owner.name;
    note.createdAt = now;
    note.updatedAt = now;
    return note;
  }
}

NoteSchema.setClass(Note);

export { NoteSchema };
