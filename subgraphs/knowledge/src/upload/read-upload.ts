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
 * as it passes the limit, so no more than `max` bytes are ever held. On a refusal the request is
 * paused, not destroyed, so the connection stays open for the answer (sent with `Connection: close`).
 */
export function readUpload(req: IncomingMessage, max: number): Promise<UploadRead> {
  const declared = req.headers['content-length'];
  const announced = declared === undefined ? undefined : Number(declared);
  if (announced !== undefined && Number.isFinite(announced) && announced > max) {
    return Promise.resolve({ kind: 'too-large', announced });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const finish = (result: UploadRead) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onBroken);
      req.off('close', onBroken);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength;
      if (received > max) {
        req.pause();
        return finish({ kind: 'too-large', announced: undefined });
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish(
        req.complete && (announced === undefined || received === announced)
          ? { kind: 'complete', bytes: Buffer.concat(chunks, received) }
          : { kind: 'aborted', received },
      );
    // Closed or broken before the end: the client went away.
    const onBroken = () => finish({ kind: 'aborted', received });
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onBroken);
    req.once('close', onBroken);
  });
}
