/** Severity levels, lowest first. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;

/** A log level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A prefixed, structured logger. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  child(prefix: string): Logger;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  level?: LogLevel;
  /** `pretty` for people at a terminal, `json` for log collectors. */
  format?: 'pretty' | 'json';
  write?: (line: string) => void;
}

/** Creates a logger whose lines start with `[prefix]` (pretty) or carry `service` (json). */
export function createLogger(prefix: string, options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const format = options.format ?? 'pretty';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const threshold = LOG_LEVELS.indexOf(level);

  const emit = (lvl: LogLevel, message: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < threshold) return;
    if (format === 'json') {
      write(
        JSON.stringify({ time: new Date().toISOString(), level: lvl, service: prefix, message, ...fields }),
      );
      return;
    }
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : '';
    write(`${lvl === 'info' ? '' : `${lvl.toUpperCase()} `}[${prefix}] ${message}${extra}`);
  };

  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger(`${prefix}:${sub}`, options),
  };
}
