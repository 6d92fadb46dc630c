import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Whether `built` is missing or older than any file under `sources` (folders or files): `npm start`
 * rebuilds the console then, so a changed page is never served from an old bundle.
 */
export async function isBuildStale(built: string, sources: readonly string[]): Promise<boolean> {
  const builtAt = await stat(built).then(
    (s) => s.mtimeMs,
    () => undefined,
  );
  if (builtAt === undefined) return true;
  for (const source of sources) if ((await newestMtime(source)) > builtAt) return true;
  return false;
}

async function newestMtime(path: string): Promise<number> {
  const info = await stat(path).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  let newest = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
    newest = Math.max(newest, await newestMtime(join(path, entry.name)));
  }
  return newest;
}
