import { UnsupportedMediaTypeError } from '#kernel/errors.ts';
import { MediaType } from '../../src/ingest/media-types.ts';
import { sniffMediaType } from '../../src/ingest/sniff.ts';
import { buildDocx } from '../fixtures/docx.ts';
import { buildPdf } from '../fixtures/pdf.ts';
import { buildZip } from '../fixtures/zip.ts';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('media type sniffing', () => {
  it('recognises each format from its bytes when no type is given', () => {
    expect(sniffMediaType(buildPdf([['x']]))).toEqual({ mediaType: MediaType.Pdf });
    expect(sniffMediaType(buildDocx(['x']))).toEqual({ mediaType: MediaType.Docx });
    expect(sniffMediaType(text('<!DOCTYPE html><p>x'))).toEqual({ mediaType: MediaType.Html });
    expect(sniffMediaType(text('# Title\n\nbody'))).toEqual({ mediaType: MediaType.Markdown });
    expect(sniffMediaType(text('just words'))).toEqual({ mediaType: MediaType.Text });
    expect(sniffMediaType(text('just words'), undefined, 'notes.md')).toEqual({
      mediaType: MediaType.Markdown,
    });
  });

  it('keeps a declared type the bytes agree with, overrules one they contradict', () => {
    expect(sniffMediaType(text('plain'), 'text/markdown; charset=utf-8')).toEqual({
      mediaType: MediaType.Markdown,
    });
    expect(sniffMediaType(text('# not a heading'), 'text/plain')).toEqual({ mediaType: MediaType.Text });
    expect(sniffMediaType(buildPdf([['x']]), 'text/plain')).toEqual({
      mediaType: MediaType.Pdf,
      overruled: 'text/plain',
    });
    const mentions = '<!doctype html><p>(`%PDF-` → PDF, a zip with `word/document.xml` → DOCX)</p>';
    expect(sniffMediaType(text(mentions), 'text/html')).toEqual({ mediaType: MediaType.Html });
    expect(sniffMediaType(Buffer.concat([text('junk before\n'), buildPdf([['x']])]))).toEqual({
      mediaType: MediaType.Pdf,
    });
    expect(sniffMediaType(text('hello'), 'application/pdf')).toEqual({
      mediaType: MediaType.Text,
      overruled: 'application/pdf',
    });
  });

  it('refuses other binary formats with UNSUPPORTED_MEDIA_TYPE naming what was found', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]);
    expect(() => sniffMediaType(png, 'text/plain')).toThrow(UnsupportedMediaTypeError);
    expect(() => sniffMediaType(png)).toThrow(
      /^The content is image\/png, which cannot be ingested; supported types: /,
    );
    expect(() => sniffMediaType(buildZip([{ name: 'a.txt', data: 'x' }]))).toThrow(/application\/zip/);
    expect(() => sniffMediaType(Buffer.from([1, 2, 0, 4]))).toThrow(/binary data/);
  });
});
