import { inflateRawSync } from 'node:zlib';
import { DocumentContentError } from './blocks.ts';

/** One entry of a zip's central directory. */
export interface ZipEntry {
  readonly name: string;
  readonly method: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

/** The central directory of a zip archive, or undefined when the bytes are not a readable zip. */
export function listZipEntries(bytes: Uint8Array): ZipEntry[] | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 64 KiB + 22 bytes (its comment is ≤ 64 KiB).
  const floor = Math.max(0, view.length - 65_557);
  let eocd = -1;
  for (let i = view.length - 22; i >= floor; i--) {
    if (view.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return undefined;
  const count = view.readUInt16LE(eocd + 10);
  let at = view.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (at + 46 > view.length || view.readUInt32LE(at) !== CENTRAL) return undefined;
    const nameLength = view.readUInt16LE(at + 28);
    const extraLength = view.readUInt16LE(at + 30);
    const commentLength = view.readUInt16LE(at + 32);
    entries.push({
      method: view.readUInt16LE(at + 10),
      compressedSize: view.readUInt32LE(at + 20),
      uncompressedSize: view.readUInt32LE(at + 24),
      localHeaderOffset: view.readUInt32LE(at + 42),
      name: view.toString('utf8', at + 46, at + 46 + nameLength),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** Limits a zip must respect before any library inflates it. */
export interface ZipLimits {
  /** Most bytes all entries may inflate to together. */
  readonly maxUncompressedBytes: number;
  /** Most entries. */
  readonly maxEntries: number;
}

/**
 * Refuses a zip bomb before a library inflates it: the declared sizes must fit the budget, and
 * every entry is inflated here with the output capped at its declared size, so an entry that lies
 * about its size is caught too. Returns the entries.
 */
export function checkZip(bytes: Uint8Array, limits: ZipLimits, what: string): ZipEntry[] {
  const entries = listZipEntries(bytes);
  if (!entries)
    throw new DocumentContentError(`${what} is not a readable zip archive (truncated or damaged)`);
  if (entries.length > limits.maxEntries) {
    throw new DocumentContentError(
      `${what} holds ${entries.length} files; at most ${limits.maxEntries} are allowed`,
    );
  }
  const declared = entries.reduce((sum, e) => sum + e.uncompressedSize, 0);
  if (declared > limits.maxUncompressedBytes) {
    throw new DocumentContentError(
      `${what} would expand to ${declared} bytes; at most ${limits.maxUncompressedBytes} are allowed (a zip bomb?)`,
    );
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const entry of entries) {
    const at = entry.localHeaderOffset;
    if (at + 30 > view.length || view.readUInt32LE(at) !== LOCAL) {
      throw new DocumentContentError(`${what} is damaged: entry ${entry.name} is missing`);
    }
    const start = at + 30 + view.readUInt16LE(at + 26) + view.readUInt16LE(at + 28);
    const data = view.subarray(start, start + entry.compressedSize);
    if (data.length < entry.compressedSize) {
      throw new DocumentContentError(`${what} is truncated: entry ${entry.name} is cut short`);
    }
    if (entry.method === 0) continue;
    if (entry.method !== 8) {
      throw new DocumentContentError(`${what} uses an unsupported compression method in ${entry.name}`);
    }
    try {
      // One byte more than declared: reaching it proves the declaration false.
      const out = inflateRawSync(data, { maxOutputLength: Math.max(1, entry.uncompressedSize + 1) });
      if (out.length > entry.uncompressedSize) throw new RangeError('larger than declared');
    } catch (error) {
      if (error instanceof RangeError || (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
        throw new DocumentContentError(
          `${what} entry ${entry.name} inflates beyond its declared ${entry.uncompressedSize} bytes (a zip bomb?)`,
        );
      }
      throw new DocumentContentError(`${what} is damaged: entry ${entry.name} cannot be inflated`);
    }
  }
  return entries;
}
