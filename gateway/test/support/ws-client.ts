import WebSocket from 'ws';

/** One graphql-ws message as received. */
export interface WsMessage {
  type: string;
  id?: string;
  payload?: unknown;
}

/** A raw graphql-transport-ws client for tests: every message and the close frame are observable. */
export interface TestWsClient {
  /** Settles with the server's close code and reason. */
  readonly closed: Promise<{ code: number; reason: string }>;
  /** Settles with `connection_ack`, or rejects with the close frame when the server refuses. */
  readonly acknowledged: Promise<void>;
  subscribe(id: string, query: string, variables?: Record<string, unknown>): void;
  /** Ends subscription `id` from the client's side. */
  complete(id: string): void;
  /** The next message of subscription `id` (next, error or complete), in order. */
  next(id: string): Promise<WsMessage>;
  close(): void;
}

/** Connects to `url` (the upgrade request with `headers`) and sends `connection_init` with `payload`. */
export function connectWs(
  url: string,
  payload?: Record<string, unknown>,
  headers: Record<string, string> = {},
): TestWsClient {
  const socket = new WebSocket(url, 'graphql-transport-ws', { headers });
  const queues = new Map<string, WsMessage[]>();
  const waiters = new Map<string, ((m: WsMessage) => void)[]>();
  const deliver = (message: WsMessage) => {
    const id = message.id ?? '';
    const waiter = waiters.get(id)?.shift();
    if (waiter) return waiter(message);
    queues.set(id, [...(queues.get(id) ?? []), message]);
  };
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as WsMessage;
      if (message.type === 'connection_ack') return resolve();
      deliver(message);
    });
    closed.then((frame) => reject(Object.assign(new Error(`closed ${frame.code} ${frame.reason}`), frame)));
  });
  acknowledged.catch(() => {});
  socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload })));
  return {
    closed,
    acknowledged,
    subscribe(id, query, variables) {
      socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query, variables } }));
    },
    complete(id) {
      socket.send(JSON.stringify({ id, type: 'complete' }));
    },
    next(id) {
      const queued = queues.get(id)?.shift();
      if (queued) return Promise.resolve(queued);
      return new Promise((resolve) => waiters.set(id, [...(waiters.get(id) ?? []), resolve]));
    },
    close() {
      socket.close(1000, 'done');
    },
  };
}
