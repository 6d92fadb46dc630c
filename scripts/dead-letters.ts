// npm run dead-letters -- list <topic> [--tenant <id>] [--after <id>] [--limit <n>]
//                        inspect <topic> <id> | replay <topic> <id> | discard <topic> <id> | stats
// Uses the configured transport (REDIS_URL, else the Postgres transport on DATABASE_URL).
import { parseArgs } from 'node:util';
import {
  discardDeadLetter,
  inspectDeadLetter,
  listDeadLetters,
  replayDeadLetter,
  streamStats,
} from '#events/admin/dead-letters.ts';
import { loadEventsConfig } from '#events/config.ts';
import { createTransport } from '#events/transport/create-transport.ts';
import { loadConfig } from '#kernel/config.ts';
import { AppError, ConfigError } from '#kernel/errors.ts';

const USAGE = `usage: npm run dead-letters -- <command>
  list <topic> [--tenant <uuid>] [--after <id>] [--limit <n>]   dead letters, oldest first
  inspect <topic> <id>                                          one dead letter with its event
  replay <topic> <id>                                           put it back on its stream
  discard <topic> <id>                                          delete it for good
  stats                                                         length, pending, lag, oldest pending, dead letters`;

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    tenant: { type: 'string' },
    after: { type: 'string' },
    limit: { type: 'string', default: '50' },
  },
});
const [command, topic, id] = positionals;
const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

let exitCode = 0;
try {
  const config = loadConfig();
  const transport = createTransport(loadEventsConfig(), config.database.url);
  try {
    const needs = (n: number) => {
      if (positionals.length !== n)
        throw new ConfigError([`${command} takes ${n - 1} argument(s)\n${USAGE}`]);
    };
    switch (command) {
      case 'list':
        needs(2);
        out(
          (
            await listDeadLetters(transport, {
              topic: topic!,
              limit: Number(values.limit),
              ...(values.tenant ? { tenantId: values.tenant } : {}),
              ...(values.after ? { after: values.after } : {}),
            })
          ).map(({ body: _body, event, ...rest }) => ({
            ...rest,
            eventId: event?.id,
            tenantId: rest.tenantId,
          })),
        );
        break;
      case 'inspect':
        needs(3);
        out(await inspectDeadLetter(transport, topic!, id!));
        break;
      case 'replay':
        needs(3);
        out({ replayed: id, newEntryId: await replayDeadLetter(transport, topic!, id!) });
        break;
      case 'discard':
        needs(3);
        await discardDeadLetter(transport, topic!, id!);
        out({ discarded: id });
        break;
      case 'stats':
        out(await streamStats(transport));
        break;
      default:
        throw new ConfigError([command ? `unknown command "${command}"\n${USAGE}` : USAGE]);
    }
  } finally {
    await transport.close();
  }
} catch (error) {
  exitCode = 1;
  if (error instanceof ConfigError) console.error(error.message);
  else if (error instanceof AppError) console.error(`${error.code}: ${error.message}`);
  else console.error(`dead-letters failed: ${String(error)}`);
}
process.exit(exitCode);
