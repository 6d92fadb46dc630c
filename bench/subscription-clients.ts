// The subscribers of bench:subscriptions, in a process of their own (as real clients are), so that
// parsing 1,000 sockets' messages does not share the gateway's event loop. Receipt times are wall
// clock (performance.timeOrigin + performance.now(), sub-millisecond, comparable across processes).
// Driven over IPC by bench/subscriptions.ts: { connect: { url, token, count, query } } → 'connected';
// 'report' → { received: { [eventId]: number[] } }; 'close' → exits.
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

interface Connect {
  url: string;
  token: string;
  count: number;
  query: string;
}

const received = new Map<string, number[]>();
const sockets: WebSocket[] = [];
const send = (message: unknown) => process.send?.(message);

function open(options: Connect): Promise<void> {
  return new Promise((ready, fail) => {
    const socket = new WebSocket(options.url, 'graphql-transport-ws');
    socket.once('open', () =>
      socket.send(
        JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${options.token}` } }),
      ),
    );
    socket.once('close', (code, reason) => fail(new Error(`closed ${code} ${reason.toString()}`)));
    socket.on('message', (data) => {
      const now = performance.timeOrigin + performance.now();
      const message = JSON.parse(String(data)) as {
        type: string;
        payload?: { data?: { killSwitchChanged?: { eventId: string } } };
      };
      if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: 'k', type: 'subscribe', payload: { query: options.query } }));
        ready();
        return;
      }
      const id = message.payload?.data?.killSwitchChanged?.eventId;
      if (message.type !== 'next' || !id) return;
      const times = received.get(id);
      if (times) times.push(now);
      else received.set(id, [now]);
    });
    sockets.push(socket);
  });
}

process.on('message', async (message: 'report' | 'close' | { connect: Connect }) => {
  if (message === 'report') {
    send({ received: Object.fromEntries(received) });
  } else if (message === 'close') {
    for (const socket of sockets) socket.close();
    process.exit(0);
  } else {
    const { connect } = message;
    try {
      for (let i = 0; i < connect.count; i += 50) {
        await Promise.all(Array.from({ length: Math.min(50, connect.count - i) }, () => open(connect)));
        send({ progress: Math.min(connect.count, i + 50) });
      }
      send('connected');
    } catch (error) {
      send({ error: error instanceof Error ? error.message : String(error) });
    }
  }
});
send('ready');
