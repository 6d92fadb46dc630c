// npm run audit:export -- --tenant <tid> --from <ISO time> --to <ISO time> [--out file.jsonl]
// Streams a tenant's audit events of [from, to) as JSON Lines, oldest first, in chain order.

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '#kernel/config.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { AppError } from '#kernel/errors.ts';
import { AuditEvent, AuditEventSchema } from '../subgraphs/audit/src/domain/audit-event.entity.ts';
import { toJsonLine } from '../subgraphs/audit/src/domain/audit-export.ts';

const BATCH = 1000;
const { values } = parseArgs({
  options: {
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
  },
});
const from = new Date(values.from ?? '');
const to = new Date(values.to ?? '');
if (!values.tenant || Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
  process.stderr.write(
    'usage: npm run audit:export -- --tenant <tid> --from <ISO time> --to <later ISO time> [--out file.jsonl]\n',
  );
  process.exit(2);
}
const config = loadConfig();
if (!config.database.url) {
  process.stderr.write('DATABASE_URL must point at the platform database (the application role)\n');
  process.exit(2);
}
const orm = await createOrm({ url: config.database.url, entities: [AuditEventSchema], poolMax: 1 });
const out = values.out ? createWriteStream(values.out) : process.stdout;
let count = 0;
try {
  let afterSeq = 0;
  for (;;) {
    const rows = await withTenant(orm, values.tenant, (em) =>
      em.getRepository(AuditEvent).range(from, to, BATCH, afterSeq),
    );
    for (const row of rows) {
      if (!out.write(`${toJsonLine(row)}\n`)) await once(out, 'drain');
    }
    count += rows.length;
    if (values.out) process.stderr.write(`\rexported ${count} events`);
    const last = rows.at(-1);
    if (!last || rows.length < BATCH) break;
    afterSeq = last.seq;
  }
  if (values.out) process.stderr.write(`\rexported ${count} events to ${values.out}\n`);
} catch (error) {
  process.stderr.write(`${error instanceof AppError ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  if (out !== process.stdout) out.end();
  await orm.close();
}
