// Worker-thread entry of the load client: the servers run on the main thread's event loop, so
// the client gets its own loop instead of stealing time from the code being measured.
import { parentPort, workerData } from 'node:worker_threads';
import { type LoadOptions, runLoad } from './load.ts';

const options = workerData as Omit<LoadOptions, 'onTick'>;
const result = await runLoad({
  ...options,
  onTick: (completed, phase) => parentPort?.postMessage({ type: 'tick', completed, phase }),
});
parentPort?.postMessage({ type: 'done', result });
