// npm run token -- --tenant <slug> --user <name> --roles <Role,Role> [--ttl <seconds>]
// Mints a dev-issuer access token; the token is the last line of output.
import { parseArgs } from 'node:util';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import {
  assertDevIssuerAllowed,
  devIssuerEndpoints,
  loadOrCreateDevKeys,
  signDevToken,
} from '#kernel/auth/dev-issuer.ts';
import { loadConfig } from '#kernel/config.ts';
import { AppError } from '#kernel/errors.ts';

const USAGE = 'usage: npm run token -- --tenant <slug> --user <name> --roles <Role,Role> [--ttl <seconds>]';

try {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string', default: 'demo' },
      user: { type: 'string', default: 'alice' },
      roles: { type: 'string', default: 'Reader' },
      ttl: { type: 'string', default: '3600' },
    },
    strict: true,
  });
  const config = loadConfig();
  if (config.auth.jwksUrl || config.auth.entra) {
    throw new Error(
      'An identity provider is configured (AUTH_JWKS_URL or AUTH_TENANT_IDS): tokens come from it, not from npm run token',
    );
  }
  assertDevIssuerAllowed({
    nodeEnv: config.nodeEnv,
    allowInProduction: config.auth.allowDevIssuerInProduction,
  });
  const ttlSeconds = Number(values.ttl);
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > 86_400) {
    throw new Error('--ttl must be a whole number of seconds from 1 to 86400');
  }
  const roles = values.roles
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const keys = await loadOrCreateDevKeys(config.dataDir);
  const { issuer } = devIssuerEndpoints(config.host, config.auth.devIssuerPort);
  const token = await signDevToken(keys, {
    tenant: values.tenant,
    user: values.user,
    roles,
    audience: config.auth.audience,
    issuer,
    ttlSeconds,
  });
  process.stderr.write(
    `dev token: tenant ${values.tenant} (tid ${devTenantId(values.tenant)}), user ${values.user} ` +
      `(oid ${devUserId(values.tenant, values.user)}), roles [${roles.join(', ')}], expires in ${ttlSeconds} s\n`,
  );
  process.stdout.write(`${token}\n`);
} catch (error) {
  const message = error instanceof AppError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}
