import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isUuid } from '#kernel/ids.ts';
import { type Checkpoint, toCheckpointLine } from './checkpoint.ts';

/**
 * Where signed checkpoints live, outside the database. Stores only ever append; reading returns the
 * raw lines, because what is stored is not trusted until each line's signature is checked.
 */
export interface AnchorStore {
  /** Appends one checkpoint to the tenant's record, durably. */
  append(checkpoint: Checkpoint): Promise<void>;
  /** Every stored line of the tenant's record, oldest first (none when it has no record). */
  lines(tenantId: string): Promise<string[]>;
  /** Where the tenant's record is, for messages. */
  describe(tenantId: string): string;
}

/**
 * The default store: one JSON Lines file per tenant in a folder only the audit service can reach
 * (a volume of its own in production), opened with O_APPEND and synced after each line. An object
 * store (S3 Object Lock, Azure immutable blobs) fits the same interface.
 */
export class FileAnchorStore implements AnchorStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #file(tenantId: string): string {
    // The id becomes a file name: only a canonical UUID may.
    if (!isUuid(tenantId)) throw new Error(`not a tenant id: ${tenantId}`);
    return join(this.#dir, `${tenantId.toLowerCase()}.jsonl`);
  }

  describe(tenantId: string): string {
    return this.#file(tenantId);
  }

  async append(checkpoint: Checkpoint): Promise<void> {
    const file = this.#file(checkpoint.tenantId);
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const handle = await open(file, 'a', 0o600);
    try {
      // One write call per line: appends of other processes cannot interleave inside it.
      await handle.write(`${toCheckpointLine(checkpoint)}\n`);
      await handle.datasync();
    } finally {
      await handle.close();
    }
  }

  async lines(tenantId: string): Promise<string[]> {
    let text: string;
    try {
      text = await readFile(this.#file(tenantId), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const lines = text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines;
  }
}
