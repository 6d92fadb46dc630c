import { DocumentContentError, type ParsedDocument } from './blocks.ts';
import { MediaType, type SupportedMediaType } from './media-types.ts';
import { parseDocx } from './parse-docx.ts';
import { parseHtml } from './parse-html.ts';
import { parseMarkdown } from './parse-markdown.ts';
import { parsePdf } from './parse-pdf.ts';
import { parsePlainText } from './parse-text.ts';
import { decodeUtf8 } from './utf8.ts';

/** Limits the parsers enforce on hostile input. */
export interface ParseLimits {
  readonly maxPdfPages: number;
  readonly maxDocxUncompressedBytes: number;
  readonly maxDocxEntries: number;
}

/** Parses a document's bytes as `mediaType` (already sniffed) into structural blocks. */
export async function parseDocument(
  bytes: Uint8Array,
  mediaType: SupportedMediaType,
  limits: ParseLimits,
): Promise<ParsedDocument> {
  const parsed = await parseAs(bytes, mediaType, limits);
  if (!parsed.blocks.some((b) => b.kind !== 'heading')) {
    throw new DocumentContentError('the document contains no text to index');
  }
  return parsed;
}

async function parseAs(
  bytes: Uint8Array,
  mediaType: SupportedMediaType,
  limits: ParseLimits,
): Promise<ParsedDocument> {
  switch (mediaType) {
    case MediaType.Pdf:
      return parsePdf(bytes, { maxPages: limits.maxPdfPages });
    case MediaType.Docx:
      return {
        blocks: await parseDocx(bytes, {
          maxUncompressedBytes: limits.maxDocxUncompressedBytes,
          maxEntries: limits.maxDocxEntries,
        }),
        pageCount: null,
      };
    case MediaType.Html:
      return { blocks: parseHtml(decodeUtf8(bytes)), pageCount: null };
    case MediaType.Markdown:
      return { blocks: parseMarkdown(decodeUtf8(bytes)), pageCount: null };
    case MediaType.Text:
      return { blocks: parsePlainText(decodeUtf8(bytes)), pageCount: null };
  }
}
