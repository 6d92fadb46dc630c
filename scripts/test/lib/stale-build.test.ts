import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isBuildStale } from '../../lib/stale-build.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-stale-'));
  await mkdir(join(dir, 'src', 'pages'), { recursive: true });
  await writeFile(join(dir, 'src', 'pages', 'a.tsx'), 'a');
  await writeFile(join(dir, 'build.ts'), 'b');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const at = (path: string, seconds: number) => utimes(path, seconds, seconds);

describe('isBuildStale', () => {
  it('is stale when the build is missing', async () => {
    expect(await isBuildStale(join(dir, 'dist', 'index.html'), [join(dir, 'src')])).toBe(true);
  });

  it('is fresh when every source is older than the build, stale when one nested file is newer', async () => {
    const built = join(dir, 'index.html');
    await writeFile(built, 'x');
    await at(join(dir, 'src', 'pages', 'a.tsx'), 1_000);
    await at(join(dir, 'build.ts'), 1_000);
    await at(built, 2_000);
    const sources = [join(dir, 'src'), join(dir, 'build.ts'), join(dir, 'absent')];
    expect(await isBuildStale(built, sources)).toBe(false);
    await at(join(dir, 'src', 'pages', 'a.tsx'), 3_000);
    expect(await isBuildStale(built, sources)).toBe(true);
    await at(join(dir, 'src', 'pages', 'a.tsx'), 1_000);
    await at(join(dir, 'build.ts'), 3_000);
    expect(await isBuildStale(built, sources)).toBe(true);
  });
});
