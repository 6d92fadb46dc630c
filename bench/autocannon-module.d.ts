// autocannon ships no type declarations; this covers only what the benches and testing/scale use.
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    /** Options of one run. */
    interface Options {
      url: string;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      /** Responses whose body differs count as mismatches. */
      expectBody?: string;
      /** Seconds before a request counts as timed out. */
      timeout?: number;
      /** Requests sent in turn, each told its response (status and body). */
      requests?: {
        method?: string;
        path?: string;
        headers?: Record<string, string>;
        body?: string;
        onResponse?: (status: number, body: string) => void;
      }[];
    }
    /** Totals of a finished run. */
    interface Result {
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
      requests: { total: number };
      latency: { p50: number; p99: number };
    }
    /** A running load: an event emitter (`response`, `tick`) that resolves to its result. */
    type Instance = EventEmitter & PromiseLike<Result> & { stop(): void };
  }
  function autocannon(options: autocannon.Options): autocannon.Instance;
  export default autocannon;
}
