import { getDocumentProxy } from 'unpdf';
import { type Block, DocumentContentError, type ParsedDocument } from './blocks.ts';

/** Options of {@link parsePdf}. */
export interface PdfOptions {
  /** Most pages a PDF may have (its page tree's count, checked before any page is read). */
  readonly maxPages: number;
}

/**
 * The text layer of a PDF, page by page (pdf.js through unpdf, offline): each page's text split
 * into paragraphs at blank lines, each block tagged with its page. A PDF without any text (a scan)
 * fails with "PDF has no text layer". Pages are read one at a time and each is released after its
 * text is taken (unpdf's extractTextItems loads every page at once: a 1,000-page manual held all
 * its pages, their parsed resources and text items together).
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
    const blocks: Block[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      let items: PageTextItem[];
      try {
        const page = await pdf.getPage(number);
        items = textItemsOf(await page.getTextContent());
        page.cleanup();
      } catch (error) {
        throw new DocumentContentError(`PDF cannot be read (${pdfReason(error)})`);
      }
      for (const text of paragraphsOf(items)) blocks.push({ kind: 'paragraph', text, page: number });
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

/** What {@link paragraphsOf} reads of a text item. */
interface PageTextItem {
  str: string;
  y: number;
  fontSize: number;
  hasEOL: boolean;
}

/** A page's text content as positioned strings (what unpdf's extractTextItems makes of it). */
function textItemsOf(content: { items: readonly object[] }): PageTextItem[] {
  const items: PageTextItem[] = [];
  for (const item of content.items as { str?: string; transform?: number[]; hasEOL?: boolean }[]) {
    if (item.str == null || !item.transform) continue; // marked-content markers carry no text
    const [, , c = 0, d = 0, , f = 0] = item.transform;
    items.push({ str: item.str, y: f, fontSize: Math.hypot(c, d), hasEOL: item.hasEOL === true });
  }
  return items;
}

/** A line gap this many times the font size or more separates paragraphs. */
const PARAGRAPH_GAP = 1.6;

/** A page's text items joined into lines, and lines into paragraphs at vertical gaps. */
function paragraphsOf(items: readonly PageTextItem[]): string[] {
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
