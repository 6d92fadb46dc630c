// A graphql-ws client of taskStatusChanged that notes when it was connected and what it received.
import { type Client, createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** What a subscriber saw. */
export interface Subscriber {
  readonly name: string;
  /** Times a connection was acknowledged (more than one: it reconnected). */
  readonly connections: number;
  /** Time (ms since the epoch) of each received event. */
  readonly received: number[];
  /** Task ids that reached COMPLETED in a received event. */
  readonly completed: Set<string>;
  /** Connection closes seen, with their codes. */
  readonly closes: number[];
  close(): Promise<void>;
}

const SUBSCRIPTION = 'subscription { taskStatusChanged { eventId taskId to } }';

/** Subscribes at `origin` (ws) as `token()`; graphql-ws retries with its default backoff when the connection drops. */
export async function subscribe(
  name: string,
  origin: string,
  token: () => Promise<string>,
): Promise<Subscriber> {
  const received: number[] = [];
  const completed = new Set<string>();
  const closes: number[] = [];
  let connections = 0;
  let firstConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    firstConnected = resolve;
  });
  const client: Client = createClient({
    url: `${origin.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams: async () => ({ authorization: `Bearer ${await token()}` }),
    retryAttempts: 30,
    // graphql-ws's own randomised exponential backoff, capped so the test stays short.
    retryWait: (retries) => new Promise((r) => setTimeout(r, Math.min(2_000, 200 * 2 ** retries))),
    shouldRetry: () => true,
    lazy: false,
    on: {
      connected: () => {
        connections++;
        firstConnected();
      },
      closed: (event) => closes.push((event as { code?: number }).code ?? 0),
    },
  });
  client.subscribe<{ taskStatusChanged: { taskId: string; to: string } }>(
    { query: SUBSCRIPTION },
    {
      next: ({ data }) => {
        received.push(Date.now());
        if (data?.taskStatusChanged.to === 'COMPLETED') completed.add(data.taskStatusChanged.taskId);
      },
      error: () => {},
      complete: () => {},
    },
  );
  await connected;
  return {
    name,
    get connections() {
      return connections;
    },
    received,
    completed,
    closes,
    close: async () => {
      await client.dispose();
    },
  };
}
