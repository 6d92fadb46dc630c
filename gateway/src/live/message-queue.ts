/** How many undelivered messages one subscription keeps; older ones are dropped for a slow reader. */
export const MAX_QUEUED_MESSAGES = 1_000;

/** A push-to-pull buffer: producers `push`, one consumer iterates; `end()` finishes the iteration. */
export interface MessageQueue<T> extends AsyncIterableIterator<T> {
  push(message: T): void;
  end(): void;
  /** Messages dropped because the reader fell {@link MAX_QUEUED_MESSAGES} behind. */
  readonly dropped: number;
  return(): Promise<IteratorResult<T>>;
}

/** Creates a queue; `onEnd` runs once when the consumer stops or `end()` is called. */
export function createMessageQueue<T>(onEnd: () => void, max = MAX_QUEUED_MESSAGES): MessageQueue<T> {
  const buffered: T[] = [];
  const waiting: ((result: IteratorResult<T>) => void)[] = [];
  let done = false;
  let dropped = 0;
  const finish = () => {
    if (done) return;
    done = true;
    buffered.length = 0;
    for (const resolve of waiting.splice(0)) resolve({ value: undefined, done: true });
    onEnd();
  };
  const queue: MessageQueue<T> = {
    push(message) {
      if (done) return;
      const reader = waiting.shift();
      if (reader) return reader({ value: message, done: false });
      buffered.push(message);
      if (buffered.length > max) {
        buffered.shift();
        dropped += 1;
      }
    },
    end: finish,
    get dropped() {
      return dropped;
    },
    next() {
      const message = buffered.shift();
      if (message !== undefined) return Promise.resolve({ value: message, done: false });
      if (done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => waiting.push(resolve));
    },
    return() {
      finish();
      return Promise.resolve({ value: undefined, done: true });
    },
    [Symbol.asyncIterator]() {
      return queue;
    },
  };
  return queue;
}
