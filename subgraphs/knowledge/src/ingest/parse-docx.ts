import mammoth from 'mammoth';
import type { Block } from './blocks.ts';
import { DocumentContentError } from './blocks.ts';
import { parseHtml } from './parse-html.ts';
import { checkZip, type ZipLimits } from './zip.ts';

/**
 * A Word document: the zip is checked against `limits` first (zip bombs, entries lying about their
 * size), then mammoth turns it into HTML whose headings (Heading 1–6 styles), lists and tables the
 * HTML reader keeps.
 */
export async function parseDocx(bytes: Uint8Array, limits: ZipLimits): Promise<Block[]> {
  const entries = checkZip(bytes, limits, 'DOCX');
  if (!entries.some((e) => e.name === 'word/document.xml')) {
    throw new DocumentContentError('DOCX has no word/document.xml: it is not a Word document');
  }
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DocumentContentError(`DOCX cannot be read (${reason.replace(/\s+/g, ' ').slice(0, 200)})`);
  }
  return parseHtml(html);
}
