import pg from 'pg';

// A transaction's BEGIN costs a round trip of its own, and so does the statement that sets the
// tenant right after it. Like the PostgreSQL JDBC driver, this client holds a plain `begin` back,
// and with it statements marked HOLD (the tenant's set_config), and sends them with the
// transaction's first statement as one simple-protocol message (`begin;<held>;<statement>`). A
// statement with parameters cannot share a simple-protocol message, so what is held then goes
// first on its own (still a round trip saved), and a transaction that sends nothing but its end
// never reaches the server at all.

const HELD_BEGIN = 'begin';
const ENDS = new Set(['commit', 'rollback']);
/**
 * Marks a statement without parameters whose result nobody reads (the tenant's `set_config`): sent
 * right after a held BEGIN, it is held too and goes with the transaction's first real statement.
 */
export const HOLD = '/* held */ ';

type Callback = (error: Error | null, result?: unknown) => void;

/** A node-postgres client that piggybacks BEGIN (and held statements) on the transaction's first statement. */
export class PiggybackBeginClient extends pg.Client {
  /** Statements held back: BEGIN, then any marked {@link HOLD}; empty when none is. */
  #held: string[] = [];

  /** Whether a BEGIN is held back (nothing of the transaction has reached the server yet). */
  get holdsBegin(): boolean {
    return this.#held.length > 0;
  }

  /** Forgets what is held (the pool does this whenever the client changes hands). */
  dropHeldBegin(): void {
    this.#held = [];
  }

  // biome-ignore lint/suspicious/noExplicitAny: node-postgres's overloads
  override query(config: any, values?: any, callback?: any): any {
    const text = plainText(config, values, callback);
    if (text === HELD_BEGIN && this.#held.length === 0) {
      this.#held = [HELD_BEGIN];
      return Promise.resolve(emptyResult('BEGIN'));
    }
    if (this.#held.length === 0) return super.query(config, values, callback);
    if (text?.startsWith(HOLD.trim())) {
      this.#held.push(text);
      return Promise.resolve(emptyResult('SELECT'));
    }
    const held = this.#held.join(';');
    this.#held = [];
    if (text !== undefined && ENDS.has(text)) {
      // nothing of the transaction reached the server: neither its start nor its end goes there
      return Promise.resolve(emptyResult(text.toUpperCase()));
    }
    if (text !== undefined) {
      return (super.query(`${held};${text}`) as Promise<pg.QueryResult | pg.QueryResult[]>).then((results) =>
        Array.isArray(results) ? results[results.length - 1] : results,
      );
    }
    if (
      typeof config?.submit === 'function' ||
      typeof values === 'function' ||
      typeof callback === 'function'
    ) {
      // A query object (a cursor) or a callback: queue what is held ahead of it. Should that fail,
      // the connection is destroyed, so the statement can never run outside the transaction.
      super.query(held, ((error: Error | null) => {
        if (error) this.connection.stream.destroy(error);
      }) as Callback);
      return super.query(config, values, callback);
    }
    return (super.query(held) as Promise<unknown>).then(() => super.query(config, values));
  }
}

/** The statement text of a plain promise query without parameters, else undefined. */
// biome-ignore lint/suspicious/noExplicitAny: node-postgres's overloads
function plainText(config: any, values: any, callback: any): string | undefined {
  if (typeof values === 'function' || typeof callback === 'function') return undefined;
  if (Array.isArray(values) && values.length > 0) return undefined;
  if (typeof config === 'string') return config.trim();
  if (!config || typeof config !== 'object' || typeof config.submit === 'function') return undefined;
  if (config.name || config.rowMode || config.types || config.queryMode === 'extended') return undefined;
  if (Array.isArray(config.values) && config.values.length > 0) return undefined;
  return typeof config.text === 'string' ? config.text.trim() : undefined;
}

function emptyResult(command: string): pg.QueryResult {
  return { command, rowCount: null, oid: 0, fields: [], rows: [] };
}

/** Pool options that make a pool's clients piggyback BEGIN, and forget a held one between holders. */
export const piggybackBeginPool = {
  Client: PiggybackBeginClient,
  onPoolCreated(pool: pg.Pool): void {
    const reset = (client: pg.PoolClient) => (client as unknown as PiggybackBeginClient).dropHeldBegin?.();
    pool.on('acquire', reset);
    pool.on('release', (_error: Error, client: pg.PoolClient) => reset(client));
  },
};

/** A node-postgres pool of piggybacking clients (for code that uses pg directly, like the relay). */
export function createPiggybackPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool({ ...config, Client: PiggybackBeginClient });
  piggybackBeginPool.onPoolCreated(pool);
  return pool;
}
