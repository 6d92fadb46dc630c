import pg from 'pg';

// A transaction's BEGIN costs a round trip of its own, and so does the statement that sets the
// tenant right after it. Like the PostgreSQL JDBC driver, this client holds a plain `begin` back
// and sends it with the transaction's first statement, as one simple-protocol message
// (`begin;<statement>`); every tenant transaction saves a round trip. A statement with parameters
// cannot share a simple-protocol message, so the held `begin` then goes first on its own, and a
// transaction that sends nothing but its end never reaches the server at all.

const HELD_BEGIN = 'begin';
const ENDS = new Set(['commit', 'rollback']);

type Callback = (error: Error | null, result?: unknown) => void;

/** A node-postgres client that piggybacks BEGIN on the transaction's first statement. */
export class PiggybackBeginClient extends pg.Client {
  #held = false;

  /** Whether a BEGIN is held back (nothing of the transaction has reached the server yet). */
  get holdsBegin(): boolean {
    return this.#held;
  }

  /** Forgets a held BEGIN (the pool does this whenever the client changes hands). */
  dropHeldBegin(): void {
    this.#held = false;
  }

  // biome-ignore lint/suspicious/noExplicitAny: node-postgres's overloads
  override query(config: any, values?: any, callback?: any): any {
    const text = plainText(config, values, callback);
    if (text === HELD_BEGIN) {
      this.#held = true;
      return Promise.resolve(emptyResult('BEGIN'));
    }
    if (!this.#held) return super.query(config, values, callback);
    this.#held = false;
    if (text !== undefined && ENDS.has(text)) {
      // an empty transaction: neither end goes to the server
      return Promise.resolve(emptyResult(text.toUpperCase()));
    }
    if (text !== undefined) {
      return (super.query(`${HELD_BEGIN};${text}`) as Promise<pg.QueryResult | pg.QueryResult[]>).then(
        (results) => (Array.isArray(results) ? results[results.length - 1] : results),
      );
    }
    if (
      typeof config?.submit === 'function' ||
      typeof values === 'function' ||
      typeof callback === 'function'
    ) {
      // A query object (a cursor) or a callback: queue the BEGIN ahead of it. Should the BEGIN
      // fail, the connection is destroyed, so the statement can never run outside the transaction.
      super.query(HELD_BEGIN, ((error: Error | null) => {
        if (error) this.connection.stream.destroy(error);
      }) as Callback);
      return super.query(config, values, callback);
    }
    return (super.query(HELD_BEGIN) as Promise<unknown>).then(() => super.query(config, values));
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
