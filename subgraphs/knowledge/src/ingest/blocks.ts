/** Kinds of structural block a parser produces; the chunker never splits across a heading. */
export type BlockKind = 'heading' | 'paragraph' | 'list' | 'table' | 'code';

/** One structural unit of a document: a heading, a paragraph, a list, a table or a code block. */
export interface Block {
  readonly kind: BlockKind;
  /** Plain text; lists, tables and code keep one line per item, row or source line. */
  readonly text: string;
  /** Heading level, 1 (top) to 6. */
  readonly level?: number;
  /** Page the block starts on (PDF), from 1. */
  readonly page?: number;
}

/** What a parser makes of a document's bytes. */
export interface ParsedDocument {
  readonly blocks: readonly Block[];
  /** Pages of a paginated format (PDF); null otherwise. */
  readonly pageCount: number | null;
}

/**
 * A document whose content cannot be ingested; the message is written for the user who uploaded it
 * ("PDF has no text layer"). Deterministic: retrying the same bytes fails the same way.
 */
export class DocumentContentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DocumentContentError';
  }
}
