import { DocumentContentError } from '../../src/ingest/blocks.ts';
import { MediaType } from '../../src/ingest/media-types.ts';
import { type ParseLimits, parseDocument } from '../../src/ingest/parse.ts';
import { MAX_HTML_DEPTH, parseHtml } from '../../src/ingest/parse-html.ts';
import { parseMarkdown } from '../../src/ingest/parse-markdown.ts';
import { buildDocx, docxParts } from '../fixtures/docx.ts';
import { buildPdf } from '../fixtures/pdf.ts';
import { buildZip } from '../fixtures/zip.ts';

const limits: ParseLimits = { maxPdfPages: 100, maxDocxUncompressedBytes: 5_000_000, maxDocxEntries: 50 };
const text = (s: string) => Buffer.from(s, 'utf8');

describe('parsers', () => {
  it('plain text: paragraphs at blank lines', async () => {
    const parsed = await parseDocument(
      text('First line\nstill first.\n\n\nSecond.\r\n'),
      MediaType.Text,
      limits,
    );
    expect(parsed).toEqual({
      blocks: [
        { kind: 'paragraph', text: 'First line\nstill first.' },
        { kind: 'paragraph', text: 'Second.' },
      ],
      pageCount: null,
    });
  });

  it('Markdown: headings, lists, tables, fenced code, front matter dropped', () => {
    const md = [
      '---',
      'title: x',
      '---',
      '# Server Configuration',
      'Intro with a [link](http://x) and **bold**.',
      '',
      'Connections',
      '-----------',
      '- one',
      '- two',
      '  continued',
      '',
      '| key | value |',
      '|-----|-------|',
      '| port | 5432 |',
      '```sh',
      'npm start',
      '',
      'echo done',
      '```',
    ].join('\n');
    expect(parseMarkdown(md)).toEqual([
      { kind: 'heading', level: 1, text: 'Server Configuration' },
      { kind: 'paragraph', text: 'Intro with a link and bold.' },
      { kind: 'heading', level: 2, text: 'Connections' },
      { kind: 'list', text: '- one\n- two continued' },
      { kind: 'table', text: 'key | value\nport | 5432' },
      { kind: 'code', text: 'npm start\n\necho done' },
    ]);
  });

  it('HTML: boilerplate dropped, headings, lists, tables and pre kept, entities decoded', () => {
    const html = `<!doctype html><html><head><title>T</title><style>p{}</style></head><body>
      <header><h1>Site name</h1></header>
      <nav><a href="/">Home</a></nav>
      <div class="navheader">Prev | Next</div>
      <main><h1>Server Configuration</h1><p>Intro &amp; more<br>text.
      <p>Unclosed paragraph
      <h2>Connections</h2><ul><li>one<li>two &#x2192; three</ul>
      <table><tr><th>key<th>value<tr><td>port<td>5432</table>
      <pre>  npm start
echo &lt;done&gt;</pre><script>alert(1)</script></main>
      <footer>© 2026</footer></body></html>`;
    expect(parseHtml(html)).toEqual([
      { kind: 'heading', level: 1, text: 'Server Configuration' },
      { kind: 'paragraph', text: 'Intro & more text.' },
      { kind: 'paragraph', text: 'Unclosed paragraph' },
      { kind: 'heading', level: 2, text: 'Connections' },
      { kind: 'list', text: '- one\n- two → three' },
      { kind: 'table', text: 'key | value\nport | 5432' },
      { kind: 'code', text: '  npm start\necho <done>' },
    ]);
  });

  it('HTML nested deeper than the limit is refused with a reason', () => {
    const deep = `${'<div>'.repeat(MAX_HTML_DEPTH + 5)}x${'</div>'.repeat(MAX_HTML_DEPTH + 5)}`;
    expect(() => parseHtml(deep)).toThrow(
      new DocumentContentError(`HTML nests elements more than ${MAX_HTML_DEPTH} deep; it cannot be ingested`),
    );
    const fine = `${'<span>'.repeat(500)}deep text${'</span>'.repeat(500)}`;
    expect(parseHtml(fine)).toEqual([{ kind: 'paragraph', text: 'deep text' }]);
  });

  it('PDF: the text layer page by page, paragraphs at gaps, page count', async () => {
    const pdf = buildPdf([
      ['Server Configuration', '', 'The port is 5432.', 'It listens on all interfaces.'],
      ['Page two.'],
    ]);
    expect(await parseDocument(pdf, MediaType.Pdf, limits)).toEqual({
      blocks: [
        { kind: 'paragraph', text: 'Server Configuration', page: 1 },
        { kind: 'paragraph', text: 'The port is 5432.\nIt listens on all interfaces.', page: 1 },
        { kind: 'paragraph', text: 'Page two.', page: 2 },
      ],
      pageCount: 2,
    });
  });

  it('PDF without a text layer, truncated, or claiming too many pages fails with a reason', async () => {
    await expect(parseDocument(buildPdf([null, null]), MediaType.Pdf, limits)).rejects.toThrow(
      'PDF has no text layer (2 pages of images?): run OCR on it first',
    );
    const pdf = buildPdf([['Some text']]);
    await expect(parseDocument(pdf.subarray(0, 200), MediaType.Pdf, limits)).rejects.toThrow(
      /^PDF cannot be read \(.+\)$/,
    );
    await expect(parseDocument(buildPdf([['x']], 10_000), MediaType.Pdf, limits)).rejects.toThrow(
      'PDF has 10000 pages; at most 100 are supported',
    );
  });

  it('DOCX: headings from Word heading styles, paragraphs', async () => {
    const docx = buildDocx([
      { heading: 1, text: 'Intro' },
      'Hello there.',
      { heading: 2, text: 'Details' },
      'More.',
    ]);
    expect((await parseDocument(docx, MediaType.Docx, limits)).blocks).toEqual([
      { kind: 'heading', level: 1, text: 'Intro' },
      { kind: 'paragraph', text: 'Hello there.' },
      { kind: 'heading', level: 2, text: 'Details' },
      { kind: 'paragraph', text: 'More.' },
    ]);
  });

  it('DOCX zip bombs are refused before anything inflates them', async () => {
    const parts = docxParts(['Hello']);
    const big = parts.map((p) =>
      p.name === 'word/document.xml' ? { ...p, data: `${p.data}${' '.repeat(6_000_000)}` } : p,
    );
    await expect(parseDocument(buildZip(big), MediaType.Docx, limits)).rejects.toThrow(
      /^DOCX would expand to \d+ bytes; at most 5000000 are allowed \(a zip bomb\?\)$/,
    );
    const lying = big.map((p) => (p.name === 'word/document.xml' ? { ...p, declaredSize: 1000 } : p));
    await expect(parseDocument(buildZip(lying), MediaType.Docx, limits)).rejects.toThrow(
      'DOCX entry word/document.xml inflates beyond its declared 1000 bytes (a zip bomb?)',
    );
    const docx = buildDocx(['Hello']);
    await expect(parseDocument(docx.subarray(0, docx.length - 30), MediaType.Docx, limits)).rejects.toThrow(
      'DOCX is not a readable zip archive (truncated or damaged)',
    );
    const notWord = buildZip([{ name: 'a.txt', data: 'hi' }]);
    await expect(parseDocument(notWord, MediaType.Docx, limits)).rejects.toThrow(
      'DOCX has no word/document.xml: it is not a Word document',
    );
  });

  it('invalid UTF-8 names the byte; a document without text is refused', async () => {
    const bad = Buffer.concat([text('abc'), Buffer.from([0xc3, 0x28]), text('def')]);
    await expect(parseDocument(bad, MediaType.Text, limits)).rejects.toThrow('not valid UTF-8 at byte 3');
    await expect(
      parseDocument(text('<html><body><nav>x</nav></body></html>'), MediaType.Html, limits),
    ).rejects.toThrow('the document contains no text to index');
  });
});
