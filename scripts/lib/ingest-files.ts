import { glob, readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';

/** Extensions the ingestion CLI sends; the server sniffs the bytes anyway. */
export const INGESTIBLE = new Map<string, string>([
  ['.txt', 'text/plain'],
  ['.text', 'text/plain'],
  ['.md', 'text/markdown'],
  ['.markdown', 'text/markdown'],
  ['.html', 'text/html'],
  ['.htm', 'text/html'],
  ['.xhtml', 'text/html'],
  ['.pdf', 'application/pdf'],
  ['.docx', 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
]);

/** A file to ingest, or one skipped with a one-line reason. */
export type Found = { path: string; bytes: number; mimeType: string } | { path: string; skipped: string };

const GLOB = /[*?[\]{}]/;

/**
 * Expands the arguments into files: a file is itself, a folder is walked (hidden entries skipped),
 * anything with glob characters is a glob. Unreadable paths and unknown extensions are reported as
 * skipped, never thrown; each file appears once, in a stable order.
 */
export async function findFiles(args: readonly string[]): Promise<Found[]> {
  const seen = new Set<string>();
  const out: Found[] = [];
  const add = async (path: string) => {
    const absolute = resolve(path);
    if (seen.has(absolute)) return;
    seen.add(absolute);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(absolute);
    } catch (error) {
      out.push({
        path: absolute,
        skipped: `cannot read it (${(error as NodeJS.ErrnoException).code ?? error})`,
      });
      return;
    }
    if (info.isDirectory()) {
      let entries: string[];
      try {
        entries = (await readdir(absolute)).filter((e) => !e.startsWith('.')).sort();
      } catch (error) {
        out.push({
          path: absolute,
          skipped: `cannot list the folder (${(error as NodeJS.ErrnoException).code ?? error})`,
        });
        return;
      }
      for (const entry of entries) await add(join(absolute, entry));
      return;
    }
    if (!info.isFile()) {
      out.push({ path: absolute, skipped: 'not a regular file' });
      return;
    }
    const mimeType = INGESTIBLE.get(extname(absolute).toLowerCase());
    if (!mimeType) {
      out.push({ path: absolute, skipped: `unsupported type (${extname(absolute) || 'no extension'})` });
      return;
    }
    out.push({ path: absolute, bytes: info.size, mimeType });
  };
  for (const arg of args) {
    if (GLOB.test(arg)) {
      const matches: string[] = [];
      for await (const match of glob(arg)) matches.push(match);
      if (matches.length === 0) out.push({ path: arg, skipped: 'the pattern matches nothing' });
      for (const match of matches.sort()) await add(match);
    } else {
      await add(arg);
    }
  }
  return out;
}

/** A one-line progress bar: files, bytes, rate and ETA. */
export function progressLine(
  done: { files: number; bytes: number },
  total: { files: number; bytes: number },
  startedAt: number,
): string {
  const width = 24;
  const fraction =
    total.bytes > 0 ? done.bytes / total.bytes : total.files > 0 ? done.files / total.files : 1;
  const filled = Math.round(width * Math.min(1, fraction));
  const elapsed = (Date.now() - startedAt) / 1000;
  const rate = elapsed > 0 ? done.bytes / elapsed : 0;
  const eta = rate > 0 ? Math.max(0, (total.bytes - done.bytes) / rate) : undefined;
  return (
    `[${'='.repeat(filled)}${' '.repeat(width - filled)}] ${done.files}/${total.files} files, ` +
    `${megabytes(done.bytes)}/${megabytes(total.bytes)} MB, ETA ${eta === undefined ? '?' : `${Math.ceil(eta)} s`}`
  );
}

/** Bytes as megabytes with one decimal. */
export function megabytes(bytes: number): string {
  return (bytes / 1_000_000).toFixed(1);
}
