// npm run build:console: bundles the console (console/src) and the embeddable approvals widget
// (console/widget) with esbuild into console/dist, which the gateway serves at /console. Prints each
// bundle's gzipped size against its budget and fails when one is over.
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';

/** Folder of the console package. */
export const CONSOLE_DIR = import.meta.dirname;
/** Where the build goes (gitignored). */
export const DIST_DIR = join(CONSOLE_DIR, 'dist');
/** Gzipped budgets (issue 16): the console's JavaScript and the widget. */
export const BUDGETS = { console: 250 * 1024, widget: 40 * 1024 } as const;

/** What one build wrote. */
export interface BuildReport {
  /** Gzipped bytes of the console's JavaScript and of the widget file. */
  gzipped: { console: number; widget: number };
  ms: number;
}

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  metafile: true,
  logLevel: 'warning',
} as const;

/** Builds both bundles into {@link DIST_DIR} and checks their budgets. */
export async function buildConsole(options: { quiet?: boolean } = {}): Promise<BuildReport> {
  const started = performance.now();
  await rm(DIST_DIR, { recursive: true, force: true });
  await mkdir(join(DIST_DIR, 'examples'), { recursive: true });
  const app = await build({
    ...common,
    entryPoints: {
      main: join(CONSOLE_DIR, 'src', 'main.tsx'),
      styles: join(CONSOLE_DIR, 'src', 'styles.css'),
    },
    outdir: join(DIST_DIR, 'assets'),
    entryNames: '[name]-[hash]',
    splitting: true,
    chunkNames: 'chunk-[hash]',
  });
  const widget = await build({
    ...common,
    entryPoints: { 'widgetdc-approvals': join(CONSOLE_DIR, 'widget', 'widgetdc-approvals.ts') },
    outdir: DIST_DIR,
  });
  const example = await build({
    ...common,
    entryPoints: { host: join(CONSOLE_DIR, 'examples', 'host.ts') },
    outdir: join(DIST_DIR, 'examples'),
    external: ['../widgetdc-approvals.js'],
  });
  const outputs = (meta: Metafile | undefined) => Object.keys(meta?.outputs ?? {});
  const appFiles = outputs(app.metafile).map((f) => relative(DIST_DIR, f));
  const script = appFiles.find((f) => f.endsWith('.js') && f.includes('main-'));
  const style = appFiles.find((f) => f.endsWith('.css'));
  if (!script || !style)
    throw new Error(`the console build wrote no script or style (${appFiles.join(', ')})`);
  const html = (await readFile(join(CONSOLE_DIR, 'src', 'index.html'), 'utf8'))
    .replace('%SCRIPT%', `/console/${script}`)
    .replace('%STYLE%', `/console/${style}`);
  await writeFile(join(DIST_DIR, 'index.html'), html);
  await copyFile(
    join(CONSOLE_DIR, 'widget', 'widgetdc-approvals.d.ts'),
    join(DIST_DIR, 'widgetdc-approvals.d.ts'),
  );
  for (const file of ['host.html', 'host.css']) {
    await copyFile(join(CONSOLE_DIR, 'examples', file), join(DIST_DIR, 'examples', file));
  }
  void example;

  const gz = async (files: string[]) => {
    let total = 0;
    for (const f of files) total += gzipSync(await readFile(join(DIST_DIR, f)), { level: 9 }).length;
    return total;
  };
  const gzipped = {
    console: await gz(appFiles.filter((f) => f.endsWith('.js'))),
    widget: await gz(outputs(widget.metafile).map((f) => relative(DIST_DIR, f))),
  };
  const ms = Math.round(performance.now() - started);
  if (!options.quiet) {
    const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
    process.stdout.write(
      `console: ${kb(gzipped.console)} gzipped (budget ${kb(BUDGETS.console)}), ` +
        `widget: ${kb(gzipped.widget)} gzipped (budget ${kb(BUDGETS.widget)}), built in ${ms} ms into ${relative(process.cwd(), DIST_DIR) || DIST_DIR}\n`,
    );
  }
  const over = (Object.keys(BUDGETS) as (keyof typeof BUDGETS)[]).filter((k) => gzipped[k] > BUDGETS[k]);
  if (over.length > 0)
    throw new Error(`over budget: ${over.map((k) => `${k} ${gzipped[k]} > ${BUDGETS[k]} bytes`).join(', ')}`);
  return { gzipped, ms };
}

if (import.meta.main) {
  try {
    await buildConsole();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}
