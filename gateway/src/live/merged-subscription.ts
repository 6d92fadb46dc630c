import type { LiveSubscription } from './live-pubsub.ts';
import { createMessageQueue } from './message-queue.ts';
import type { LiveMessage, LiveTopic } from './topics.ts';

/**
 * One subscription over several channels of the same topic (a tenant's and the platform's): messages
 * in the order they arrive; `return()` unsubscribes from every channel; it ends when all have.
 */
export function mergeSubscriptions<T extends LiveTopic>(parts: LiveSubscription<T>[]): LiveSubscription<T> {
  let open = parts.length;
  const queue = createMessageQueue<LiveMessage<T>>(() => {
    for (const part of parts) void part.return();
  });
  for (const part of parts) {
    void (async () => {
      try {
        for (;;) {
          const step = await part.next();
          if (step.done) break;
          queue.push(step.value);
        }
      } catch {
        // A failed channel ends like a closed one; the others go on.
      }
      open -= 1;
      if (open === 0) queue.end();
    })();
  }
  return Object.assign(queue, { ready: Promise.all(parts.map((p) => p.ready)).then(() => undefined) });
}
