import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { ConfigError } from '#kernel/errors.ts';

const run = promisify(execFile);

/** The major version of a PostgreSQL client tool on PATH, or undefined when it is not installed. */
export async function toolMajor(tool: 'pg_dump' | 'pg_restore'): Promise<number | undefined> {
  try {
    const { stdout } = await run(tool, ['--version']);
    return Number(/(\d+)(?:\.\d+)?/.exec(stdout)?.[1]);
  } catch {
    return undefined;
  }
}

/**
 * Makes sure pg_dump and pg_restore can handle a server of `serverMajor`: installs Debian's
 * `postgresql-client` when they are missing and this runs as root, otherwise says what to install.
 */
export async function ensureClientTools(serverMajor: number, log: (line: string) => void): Promise<void> {
  let major = await toolMajor('pg_dump');
  if (major === undefined && process.getuid?.() === 0) {
    log('pg_dump is not installed: installing postgresql-client (apt-get)');
    await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql-client']).catch(
      async () => {
        await run('apt-get', ['update', '-qq']);
        await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'postgresql-client']);
      },
    );
    major = await toolMajor('pg_dump');
  }
  if (major === undefined || (await toolMajor('pg_restore')) === undefined) {
    throw new ConfigError([
      'pg_dump and pg_restore are not installed: install the PostgreSQL client tools (Debian: apt-get install postgresql-client)',
    ]);
  }
  if (major < serverMajor) {
    throw new ConfigError([
      `pg_dump ${major} cannot back up a PostgreSQL ${serverMajor} server: install postgresql-client-${serverMajor} (pg_dump must be at least the server's version)`,
    ]);
  }
}

/**
 * Runs a client tool with `--verbose`, calling `onLine` with each line it logs (progress), and
 * rejects with its last lines when it fails.
 */
export function runTool(tool: string, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(tool, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const tail: string[] = [];
    let partial = '';
    child.stderr.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine(line);
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else
        reject(
          new Error(
            `${tool} failed (exit ${code}):\n${tail
              .filter((l) => !/: (processing|dumping|creating|restoring)/.test(l))
              .slice(-8)
              .join('\n')}`,
          ),
        );
    });
  });
}
