import type { IncomingMessage } from 'node:http';

/** How reading an upload ended. */
export type UploadRead =
  | { kind: 'complete'; bytes: Buffer }
  /** More than `max` bytes arrived (or were announced); reading stopped at the limit. */
  | { kind: 'too-large'; announced: number | undefined }
  /** The client went away (or the connection broke) before the body ended. */
  | { kind: 'aborted'; received: number };

/**
 * Reads a request body of at most `max` bytes, counting while it streams: a `Content-Length` over
 * the limit is refused before a byte is read, and a body without one (chunked) is cut off as soon
 * as it passes the limit, so no more than `max` bytes are ever held. Reading pulls chunk by chunk,
 * so a slow consumer slows the sender (TCP backpressure) instead of filling memory.
 */
export async function readUpload(req: IncomingMessage, max: number): Promise<UploadRead> {
  const declared = req.headers['content-length'];
  const announced = declared === undefined ? undefined : Number(declared);
  if (announced !== undefined && Number.isFinite(announced) && announced > max) {
    return { kind: 'too-large', announced };
  }
  const chunks: Buffer[] = [];
  let received = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      received += chunk.byteLength;
      if (received > max) return { kind: 'too-large', announced: undefined };
      chunks.push(chunk);
    }
  } catch {
    return { kind: 'aborted', received };
  }
  // A body shorter than it announced ends without an error on some paths: still incomplete.
  if (!req.complete || (announced !== undefined && received !== announced)) {
    return { kind: 'aborted', received };
  }
  return { kind: 'complete', bytes: Buffer.concat(chunks, received) };
}
