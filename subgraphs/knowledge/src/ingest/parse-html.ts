import { type Block, DocumentContentError } from './blocks.ts';
import { decodeEntities } from './html-entities.ts';

/** Deepest element nesting accepted; deeper documents are refused rather than walked. */
export const MAX_HTML_DEPTH = 1000;

/** Elements whose whole content is boilerplate or not text. */
const SKIPPED = new Set([
  'nav',
  'header',
  'footer',
  'aside',
  'script',
  'style',
  'noscript',
  'template',
  'form',
  'button',
  'select',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'head',
  'dialog',
  'menu',
]);
/** ARIA landmarks that mark boilerplate, and class/id words that do. */
const SKIPPED_ROLES = new Set(['navigation', 'banner', 'contentinfo', 'search', 'complementary']);
const SKIPPED_CLASS =
  /(^|[\s_-])(nav|navbar|navheader|navfooter|breadcrumbs?|sidebar|skip-?link|site-header|site-footer|cookie-banner)($|[\s_-])/i;
const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp']);
const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'param',
  'source',
  'track',
  'wbr',
]);
const BLOCK = new Set([
  'p',
  'div',
  'section',
  'article',
  'main',
  'blockquote',
  'pre',
  'ul',
  'ol',
  'dl',
  'dt',
  'dd',
  'li',
  'table',
  'tr',
  'td',
  'th',
  'thead',
  'tbody',
  'tfoot',
  'caption',
  'figure',
  'figcaption',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'br',
  'address',
  'details',
  'summary',
  'body',
  'html',
]);
const HEADING = /^h([1-6])$/;

interface Element {
  name: string;
  skipped: boolean;
}

/**
 * A streaming HTML reader (no tree, no recursion): headings become heading blocks, `pre` code
 * blocks, lists and tables one block each (an item or a row a line), other block elements
 * paragraphs. Navigation, headers, footers, scripts and the like are dropped. Refuses nesting
 * deeper than {@link MAX_HTML_DEPTH}.
 */
export function parseHtml(html: string): Block[] {
  const blocks: Block[] = [];
  const stack: Element[] = [];
  let skipDepth = 0;
  let text = '';
  let heading = 0;
  let pre = 0;
  let listDepth = 0;
  let tableDepth = 0;
  let items: string[] = [];
  let rows: string[] = [];
  let cells: string[] = [];

  const collapse = (s: string) => s.replace(/\s+/g, ' ').trim();
  const flushParagraph = () => {
    const value = pre ? text.replace(/^\n+|\s+$/g, '') : collapse(text);
    text = '';
    if (!value) return;
    if (heading) blocks.push({ kind: 'heading', level: heading, text: value });
    else if (pre) blocks.push({ kind: 'code', text: value });
    else if (tableDepth) cells.push(value);
    else if (listDepth) items.push(value);
    else blocks.push({ kind: 'paragraph', text: value });
  };
  const endRow = () => {
    flushParagraph();
    if (cells.length) rows.push(cells.join(' | '));
    cells = [];
  };

  const open = (name: string, attributes: string) => {
    const skipped =
      SKIPPED.has(name) ||
      SKIPPED_ROLES.has(attribute(attributes, 'role') ?? '') ||
      SKIPPED_CLASS.test(`${attribute(attributes, 'class') ?? ''} ${attribute(attributes, 'id') ?? ''}`);
    if (VOID.has(name)) {
      if (skipDepth) return;
      if (name === 'br') text += pre ? '\n' : ' ';
      else if (name === 'hr') flushParagraph();
      return;
    }
    implicitlyClose(name);
    stack.push({ name, skipped });
    if (stack.length > MAX_HTML_DEPTH) {
      throw new DocumentContentError(
        `HTML nests elements more than ${MAX_HTML_DEPTH} deep; it cannot be ingested`,
      );
    }
    if (skipped) skipDepth++;
    if (skipDepth) return;
    if (BLOCK.has(name) && !(tableDepth && (name === 'p' || name === 'div'))) flushParagraph();
    const level = HEADING.exec(name);
    if (level && !tableDepth && !listDepth) heading = Number(level[1]);
    else if (name === 'pre') pre++;
    else if (name === 'ul' || name === 'ol' || name === 'dl') listDepth++;
    else if (name === 'table') {
      if (tableDepth === 0) rows = [];
      tableDepth++;
    } else if (name === 'tr') endRow();
  };

  const close = (name: string) => {
    const at = stack.findLastIndex((e) => e.name === name);
    if (at < 0) return;
    while (stack.length > at) {
      const element = stack.pop()!;
      if (!skipDepth) endElement(element.name);
      if (element.skipped) skipDepth--;
    }
  };

  const endElement = (name: string) => {
    if (BLOCK.has(name) && !(tableDepth && (name === 'p' || name === 'div'))) flushParagraph();
    if (HEADING.test(name)) heading = 0;
    else if (name === 'pre') pre = Math.max(0, pre - 1);
    else if (name === 'tr') endRow();
    else if ((name === 'ul' || name === 'ol' || name === 'dl') && listDepth > 0) {
      listDepth--;
      if (listDepth === 0 && !tableDepth && items.length) {
        blocks.push({ kind: 'list', text: items.map((item) => `- ${item}`).join('\n') });
        items = [];
      }
    } else if (name === 'table' && tableDepth > 0) {
      endRow();
      tableDepth--;
      if (tableDepth === 0 && rows.length) {
        blocks.push({ kind: 'table', text: rows.join('\n') });
        rows = [];
      }
    }
  };

  /** HTML's implied end tags for the common cases (p, li, dt/dd, td/th, tr). */
  const implicitlyClose = (name: string) => {
    const top = stack.at(-1)?.name;
    if (top === 'p' && BLOCK.has(name)) close('p');
    else if (name === 'li' && top === 'li') close('li');
    else if ((name === 'dt' || name === 'dd') && (top === 'dt' || top === 'dd')) close(top);
    else if ((name === 'td' || name === 'th') && (top === 'td' || top === 'th')) close(top);
    else if (name === 'tr' && (top === 'td' || top === 'th' || top === 'tr')) close('tr');
  };

  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    const end = lt < 0 ? n : lt;
    if (end > i && !skipDepth) text += decodeEntities(html.slice(i, end));
    if (lt < 0) break;
    i = lt;
    if (html.startsWith('<!--', i)) {
      const stop = html.indexOf('-->', i + 4);
      i = stop < 0 ? n : stop + 3;
      continue;
    }
    if (html[i + 1] === '!' || html[i + 1] === '?') {
      const stop = html.indexOf('>', i);
      i = stop < 0 ? n : stop + 1;
      continue;
    }
    const tag = /^<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)/.exec(html.slice(i, i + 64));
    if (!tag) {
      if (!skipDepth) text += '<';
      i++;
      continue;
    }
    const stop = tagEnd(html, i + tag[0].length);
    const name = tag[2]!.toLowerCase();
    const attributes = html.slice(i + tag[0].length, stop);
    i = stop + 1;
    if (tag[1]) {
      close(name);
      continue;
    }
    open(name, attributes);
    if (attributes.trimEnd().endsWith('/') && !VOID.has(name)) close(name);
    else if (RAW_TEXT.has(name)) {
      const closing = new RegExp(`</${name}`, 'gi');
      closing.lastIndex = i;
      const stopRaw = closing.exec(html)?.index ?? n;
      if (!skipDepth && name === 'textarea') text += decodeEntities(html.slice(i, stopRaw));
      i = stopRaw;
    }
  }
  while (stack.length) close(stack.at(-1)!.name);
  flushParagraph();
  if (items.length) blocks.push({ kind: 'list', text: items.map((item) => `- ${item}`).join('\n') });
  if (rows.length || cells.length) {
    endRow();
    blocks.push({ kind: 'table', text: rows.join('\n') });
  }
  return blocks;
}

/** Index of the `>` that ends a tag, skipping quoted attribute values. */
function tagEnd(html: string, from: number): number {
  let quote = '';
  for (let i = from; i < html.length; i++) {
    const c = html[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return i;
  }
  return html.length;
}

function attribute(attributes: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|\\s)${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(
    attributes,
  );
  return match ? (match[1] ?? match[2] ?? match[3])?.toLowerCase() : undefined;
}
