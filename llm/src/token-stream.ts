// A streamed model call as an async iterator (what a GraphQL subscription's `subscribe` returns):
// text pieces as they arrive, then the call's result; leaving the loop early (the client went away)
// aborts the call.

/** One item of {@link tokenStream}: a piece of text, or the result at the end. */
export type TokenStreamItem<T> = { readonly token: string } | { readonly result: T };

/** How {@link tokenStream} runs the call. */
export type TokenStreamCall<T> = (options: {
  signal: AbortSignal;
  onToken: (text: string) => void;
}) => Promise<T>;

/**
 * Runs `call` and yields its tokens, then `{ result }`. A failure of the call is thrown from the
 * iterator after the tokens before it. `return()` (a `break`, a closed subscription) or `signal`
 * aborts the call's signal. Tokens are buffered while the consumer is slower than the model.
 */
export function tokenStream<T>(
  call: TokenStreamCall<T>,
  signal?: AbortSignal,
): AsyncIterableIterator<TokenStreamItem<T>> {
  const controller = new AbortController();
  const stop = () => controller.abort(signal?.reason);
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', stop, { once: true });
  const queue: TokenStreamItem<T>[] = [];
  let failure: { error: unknown } | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  let settled = false;
  const done = call({
    signal: controller.signal,
    onToken: (token) => {
      if (finished) return;
      queue.push({ token });
      notify();
    },
  })
    .then(
      (result) => {
        queue.push({ result });
      },
      (error: unknown) => {
        failure = { error };
      },
    )
    .finally(() => {
      settled = true;
      signal?.removeEventListener('abort', stop);
      notify();
    });
  const iterator: AsyncIterableIterator<TokenStreamItem<T>> = {
    async next() {
      for (;;) {
        if (finished) return { done: true, value: undefined };
        const item = queue.shift();
        if (item) {
          if ('result' in item) finished = true;
          return { done: false, value: item };
        }
        if (failure) {
          finished = true;
          throw failure.error;
        }
        if (settled) {
          finished = true;
          return { done: true, value: undefined };
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
    async return() {
      if (!finished) {
        finished = true;
        controller.abort(new DOMException('the stream was closed', 'AbortError'));
        await done;
      }
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
