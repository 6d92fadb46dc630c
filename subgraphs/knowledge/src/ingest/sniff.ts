import { UnsupportedMediaTypeError } from '#kernel/errors.ts';
import {
  MediaType,
  mediaTypeOfName,
  normaliseMediaType,
  SUPPORTED_MEDIA_TYPES,
  type SupportedMediaType,
} from './media-types.ts';
import { listZipEntries } from './zip.ts';

/** Signatures of binary formats we do not ingest, named in the refusal. */
const BINARY_SIGNATURES: readonly { magic: number[]; type: string }[] = [
  { magic: [0x89, 0x50, 0x4e, 0x47], type: 'image/png' },
  { magic: [0xff, 0xd8, 0xff], type: 'image/jpeg' },
  { magic: [0x47, 0x49, 0x46, 0x38], type: 'image/gif' },
  { magic: [0x1f, 0x8b], type: 'application/gzip' },
  { magic: [0x42, 0x5a, 0x68], type: 'application/x-bzip2' },
  { magic: [0x37, 0x7a, 0xbc, 0xaf], type: 'application/x-7z-compressed' },
  { magic: [0xd0, 0xcf, 0x11, 0xe0], type: 'application/msword (legacy .doc)' },
  { magic: [0x7f, 0x45, 0x4c, 0x46], type: 'application/x-elf' },
  { magic: [0x4d, 0x5a], type: 'application/x-msdownload' },
  { magic: [0x52, 0x49, 0x46, 0x46], type: 'audio/video (RIFF)' },
];

/** What sniffing decided: the type to parse as, and whether the declared one was overruled. */
export interface SniffResult {
  readonly mediaType: SupportedMediaType;
  /** The declared type when the bytes contradicted it. */
  readonly overruled?: string;
}

function startsWith(bytes: Uint8Array, magic: readonly number[], at = 0): boolean {
  return magic.every((b, i) => bytes[at + i] === b);
}

/** The family the bytes belong to: pdf, docx, some refused binary type, or text. */
function familyOf(bytes: Uint8Array): 'pdf' | 'docx' | 'text' | { refused: string } {
  // PDF readers accept the header anywhere in the first KiB; a version and a line start keep a
  // text that merely mentions "%PDF-" (this repository's ADRs do) from being taken for one.
  const head = Buffer.from(bytes.subarray(0, 1024)).toString('latin1');
  if (/(^|[\r\n])%PDF-\d\.\d/.test(head)) return 'pdf';
  if (startsWith(bytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(bytes, [0x50, 0x4b, 0x05, 0x06])) {
    const names = listZipEntries(bytes)?.map((e) => e.name);
    if (names?.includes('word/document.xml')) return 'docx';
    return { refused: 'application/zip' };
  }
  for (const { magic, type } of BINARY_SIGNATURES) if (startsWith(bytes, magic)) return { refused: type };
  if (bytes.subarray(0, 8192).includes(0)) return { refused: 'application/octet-stream (binary data)' };
  return 'text';
}

/** Whether decoded-as-text bytes look like an HTML document. */
function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 2048))
    .toString('utf8')
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  return /^(<!--[\s\S]*?-->\s*)*(<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/.test(head);
}

/** Whether text looks like Markdown: ATX headings, fences or tables at line starts. */
function looksLikeMarkdown(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 16384)).toString('utf8');
  return /^(#{1,6} \S|```|~~~|\|.*\|\s*$)/m.test(head);
}

/**
 * Decides how to parse `bytes`: from the bytes when no type is declared or when the declared one
 * contradicts them (a PDF sent as text/plain is a PDF, a page starting `<!doctype html` is HTML); a
 * declared text type is otherwise kept for text bytes (Markdown and plain text look alike). Refuses what we cannot ingest with
 * UNSUPPORTED_MEDIA_TYPE naming the type found.
 */
export function sniffMediaType(bytes: Uint8Array, declared?: string, name?: string): SniffResult {
  const family = familyOf(bytes);
  const declaredType = declared ? normaliseMediaType(declared) : undefined;
  const supported = SUPPORTED_MEDIA_TYPES.join(', ');
  if (typeof family === 'object') {
    throw new UnsupportedMediaTypeError(
      `The content is ${family.refused}, which cannot be ingested; supported types: ${supported}`,
      { found: family.refused, supported: [...SUPPORTED_MEDIA_TYPES] },
    );
  }
  let sniffed: SupportedMediaType;
  if (family === 'pdf') sniffed = MediaType.Pdf;
  else if (family === 'docx') sniffed = MediaType.Docx;
  else if (looksLikeHtml(bytes)) sniffed = MediaType.Html;
  else if (declaredType === MediaType.Text || declaredType === MediaType.Markdown) sniffed = declaredType;
  else if (declaredType === MediaType.Html) sniffed = MediaType.Html;
  else {
    const byName = mediaTypeOfName(name);
    if (byName === MediaType.Markdown || byName === MediaType.Text) sniffed = byName;
    else sniffed = looksLikeMarkdown(bytes) ? MediaType.Markdown : MediaType.Text;
  }
  return declared && declaredType !== sniffed
    ? { mediaType: sniffed, overruled: declared }
    : { mediaType: sniffed };
}
