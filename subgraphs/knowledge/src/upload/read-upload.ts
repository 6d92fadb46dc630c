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
 * paused, not destroyed, so the connection stays open for the answer (then {@link discardRest}).
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

/**
 * Reads and discards the rest of a body that was answered early (a 413), for at most `lingerMs`,
 * then closes the connection if the client is still sending. Closing a socket with unread bytes
 * resets it, and a peer still writing (the gateway forwarding the upload) then loses the answer,
 * or sees its write fail before it reads it: the answer goes on a connection kept open, not with
 * `Connection: close`.
 */
export function discardRest(req: IncomingMessage, lingerMs: number): void {
  if (req.complete || req.destroyed) return;
  const timer = setTimeout(() => req.socket.destroy(), lingerMs);
  timer.unref();
  const done = () => clearTimeout(timer);
  req.once('end', done);
  req.once('close', done);
  req.resume();
}
