// autocannon ships no type declarations; this covers only what the bench uses.
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
    }
    /** Totals of a finished run. */
    interface Result {
      errors: number;
      timeouts: number;
      mismatches: number;
      non2xx: number;
    }
    /** A running load: an event emitter (`response`, `tick`) that resolves to its result. */
    type Instance = EventEmitter & PromiseLike<Result>;
  }
  function autocannon(options: autocannon.Options): autocannon.Instance;
  export default autocannon;
}
