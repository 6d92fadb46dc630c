import type { Block } from './blocks.ts';

/** Plain text: paragraphs are separated by blank lines; line breaks inside a paragraph are kept. */
export function parsePlainText(text: string): Block[] {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n+/)
    .map((p) => p.replace(/[ \t]+$/gm, '').trim())
    .filter((p) => p.length > 0)
    .map((p) => ({ kind: 'paragraph', text: p }));
}
