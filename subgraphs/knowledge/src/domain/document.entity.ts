import { defineEntity, p } from '@mikro-orm/postgresql';
import { DocumentRepository } from './document.repository.ts';

/** Every status a document can be in (mirrors `DocumentStatus` of the SDL). */
export const DOCUMENT_STATUSES = ['PENDING', 'PROCESSING', 'READY', 'FAILED'] as const;

/** A document status. */
export type DocumentStatus = (typeof DOCUMENT_STATUSES)[number];

const DocumentSchema = defineEntity({
  name: 'Document',
  schema: 'knowledge',
  tableName: 'documents',
  repository: () => DocumentRepository,
  properties: {
    id: p.uuid().primary(),
    tenantId: p.uuid(),
    title: p.text(),
    mimeType: p.text(),
    status: p.enum(DOCUMENT_STATUSES),
    createdBy: p.uuid(),
    createdAt: p.datetime(3),
  },
});

/** A document a tenant has ingested. */
export class Document extends DocumentSchema.class {}

DocumentSchema.setClass(Document);

export { DocumentSchema };
