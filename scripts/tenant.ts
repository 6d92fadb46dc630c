// npm run tenant -- register --id <tid> --slug <slug> --name "<display name>"
// npm run tenant -- show --id <tid>
// Registers an Entra ID directory as a WidgeTDC tenant (unknown tenants are refused at sign-in).
import { hostname, userInfo } from 'node:os';
import { parseArgs } from 'node:util';
import { findTenant, registerTenant } from '#kernel/db/tenant-registry.ts';
import { AppError, ConfigError } from '#kernel/errors.ts';
import { openDatabaseForCli } from './lib/database-for-cli.ts';

const USAGE = `usage:
  npm run tenant -- register --id <directory tenant id> --slug <slug> --name "<display name>"
  npm run tenant -- show --id <directory tenant id>`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { id: { type: 'string' }, slug: { type: 'string' }, name: { type: 'string' } },
});
const [command] = positionals;
if ((command !== 'register' && command !== 'show') || !values.id) {
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

let db: Awaited<ReturnType<typeof openDatabaseForCli>> | undefined;
try {
  db = await openDatabaseForCli();
  if (command === 'register') {
    if (!values.slug || !values.name) throw new ConfigError(['register needs --slug and --name']);
    // The operator authenticated to the database; the audit record names them as a service actor.
    const operator = `${userInfo().username}@${hostname()}`;
    const tenant = await registerTenant(
      db.orm,
      { tenantId: values.id, slug: values.slug, displayName: values.name },
      { kind: 'service', id: `operator:${operator}`, name: `tenant CLI (${operator})` },
    );
    process.stdout.write(`registered tenant ${tenant.slug} (${tenant.id})\n`);
  } else {
    const tenant = await findTenant(db.orm, values.id);
    if (!tenant) {
      process.stdout.write(`tenant ${values.id} is not registered\n`);
      process.exitCode = 1;
    } else {
      process.stdout.write(`${JSON.stringify(tenant)}\n`);
    }
  }
} catch (error) {
  process.stderr.write(
    `${error instanceof AppError || error instanceof ConfigError ? error.message : String(error)}\n`,
  );
  process.exitCode = 1;
} finally {
  await db?.close();
}
