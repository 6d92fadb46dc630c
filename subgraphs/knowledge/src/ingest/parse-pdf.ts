import { extractTextItems, getDocumentProxy, type StructuredTextItem } from 'unpdf';
import { type Block, DocumentContentError, type ParsedDocument } from './blocks.ts';

/** Options of {@link parsePdf}. */
export interface PdfOptions {
  /** Most pages a PDF may have (its page tree's count, checked before any page is read). */
  readonly maxPages: number;
}

/**
 * The text layer of a PDF, page by page (pdf.js through unpdf, offline): each page's text split
 * into paragraphs at blank lines, each block tagged with its page. A PDF without any text (a scan)
 * fails with "PDF has no text layer".
 */
export async function parsePdf(bytes: Uint8Array, options: PdfOptions): Promise<ParsedDocument> {
  let pdf: Awaited<ReturnType<typeof getDocumentProxy>>;
  try {
    // pdf.js takes ownership of the buffer it is given: hand it a copy.
    pdf = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false });
  } catch (error) {
    throw new DocumentContentError(`PDF cannot be read (${pdfReason(error)})`);
  }
  try {
    if (pdf.numPages > options.maxPages) {
      throw new DocumentContentError(
        `PDF has ${pdf.numPages} pages; at most ${options.maxPages} are supported`,
      );
    }
    let pages: StructuredTextItem[][];
    try {
      pages = (await extractTextItems(pdf)).items;
    } catch (error) {
      throw new DocumentContentError(`PDF cannot be read (${pdfReason(error)})`);
    }
    const blocks: Block[] = [];
    for (const [index, items] of pages.entries()) {
      for (const text of paragraphsOf(items)) blocks.push({ kind: 'paragraph', text, page: index + 1 });
    }
    if (blocks.length === 0) {
      throw new DocumentContentError(
        `PDF has no text layer (${pdf.numPages} page${pdf.numPages === 1 ? '' : 's'} of images?): run OCR on it first`,
      );
    }
    return { blocks, pageCount: pdf.numPages };
  } finally {
    await pdf.destroy();
  }
}

/** A line gap this many times the font size or more separates paragraphs. */
const PARAGRAPH_GAP = 1.6;

/** A page's text items joined into lines, and lines into paragraphs at vertical gaps. */
function paragraphsOf(items: readonly StructuredTextItem[]): string[] {
  const paragraphs: string[] = [];
  let lines: string[] = [];
  let line = '';
  let lastY: number | undefined;
  let lastSize = 0;
  const endLine = () => {
    const text = line.replace(/\s+/g, ' ').trim();
    if (text) lines.push(text);
    line = '';
  };
  const endParagraph = () => {
    endLine();
    if (lines.length) paragraphs.push(lines.join('\n'));
    lines = [];
  };
  for (const item of items) {
    if (lastY !== undefined && Math.abs(lastY - item.y) > 0.5) {
      const gap = lastY - item.y;
      if (gap > PARAGRAPH_GAP * Math.max(lastSize, item.fontSize, 1) || gap < 0) endParagraph();
      else endLine();
    }
    line += item.str;
    lastY = item.y;
    lastSize = item.fontSize;
    if (item.hasEOL) line += ' ';
  }
  endParagraph();
  return paragraphs;
}

function pdfReason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').slice(0, 200) || 'unknown error';
}
