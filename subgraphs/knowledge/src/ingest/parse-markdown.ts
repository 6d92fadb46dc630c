import type { Block, BlockKind } from './blocks.ts';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const ATX = /^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$/;
const LIST_ITEM = /^ {0,3}([-*+]|\d{1,9}[.)])[ \t]+/;
const TABLE_ROW = /^ {0,3}\|.*\|[ \t]*$/;
const TABLE_RULE = /^ {0,3}\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$/;

/** Inline Markdown reduced to its text: links keep their label, images their alt text, emphasis marks go. */
function inline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__)(?=\S)(.+?)(?<=\S)\1/g, '$2')
    .replace(/<\/?[a-zA-Z][^>]*>/g, '');
}

/**
 * CommonMark-shaped block structure, line by line: ATX and setext headings, fenced code (kept
 * verbatim), pipe tables, lists (with their continuation lines) and paragraphs. Front matter is dropped.
 */
export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let buffer: string[] = [];
  let kind: BlockKind = 'paragraph';
  const flush = () => {
    const text = kind === 'paragraph' ? buffer.map((l) => l.trim()).join(' ') : buffer.join('\n');
    if (text.trim()) blocks.push({ kind, text: kind === 'code' ? text : inline(text).trim() });
    buffer = [];
    kind = 'paragraph';
  };
  let i = 0;
  if (lines[0]?.trim() === '---') {
    const end = lines.findIndex((l, n) => n > 0 && (l.trim() === '---' || l.trim() === '...'));
    if (end > 0) i = end + 1;
  }
  for (; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = FENCE.exec(line);
    if (fence) {
      flush();
      const marker = fence[1]!;
      const code: string[] = [];
      for (i++; i < lines.length && !lines[i]!.trimStart().startsWith(marker); i++) code.push(lines[i]!);
      kind = 'code';
      buffer = code;
      flush();
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      flush();
      const text = inline(atx[2]!).trim();
      if (text) blocks.push({ kind: 'heading', level: atx[1]!.length, text });
      continue;
    }
    if (line.trim() === '') {
      if (kind !== 'list') flush();
      else if (!/^\s+\S/.test(lines[i + 1] ?? '') && !LIST_ITEM.test(lines[i + 1] ?? '')) flush();
      continue;
    }
    if (kind === 'paragraph' && buffer.length > 0 && /^ {0,3}(=+|-+)[ \t]*$/.test(line)) {
      const text = inline(buffer.map((l) => l.trim()).join(' ')).trim();
      buffer = [];
      blocks.push({ kind: 'heading', level: line.trim().startsWith('=') ? 1 : 2, text });
      continue;
    }
    if (/^ {0,3}([-*_])([ \t]*\1){2,}[ \t]*$/.test(line)) {
      flush();
      continue;
    }
    if (TABLE_ROW.test(line)) {
      if (kind !== 'table') flush();
      kind = 'table';
      if (!TABLE_RULE.test(line)) {
        buffer.push(
          line
            .trim()
            .replace(/^\||\|$/g, '')
            .split('|')
            .map((c) => inline(c).trim())
            .join(' | '),
        );
      }
      continue;
    }
    if (LIST_ITEM.test(line)) {
      if (kind !== 'list') flush();
      kind = 'list';
      buffer.push(line.trim());
      continue;
    }
    if (kind === 'list' && /^\s+\S/.test(line)) {
      buffer[buffer.length - 1] += ` ${line.trim()}`;
      continue;
    }
    if (kind !== 'paragraph') flush();
    buffer.push(line);
  }
  flush();
  return blocks;
}
