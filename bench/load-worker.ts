// Worker-thread entry of the load client: the subgraphs run on the main thread's event loop, so
// the client gets its own loop instead of stealing time from the code being measured.
import { parentPort, workerData } from 'node:worker_threads';
import { type AutocannonOptions, runAutocannon } from './autocannon-load.ts';
import { type LoadOptions, runLoad } from './load.ts';

/** What the bench asks of one worker: autocannon on one URL, or the bench's own (two-hop capable) client. */
export type WorkerJob =
  | ({ client: 'autocannon' } & Omit<AutocannonOptions, 'onTick' | 'onMeasure'>)
  | ({ client: 'loop' } & Omit<LoadOptions, 'onTick' | 'onMeasure'>);

const job = workerData as WorkerJob;
const onTick = (completed: number, phase: 'warmup' | 'measure') =>
  parentPort?.postMessage({ type: 'tick', completed, phase });
const onMeasure = () => parentPort?.postMessage({ type: 'measure' });
const result =
  job.client === 'autocannon'
    ? await runAutocannon({ ...job, onTick, onMeasure })
    : await runLoad({ ...job, onTick, onMeasure });
parentPort?.postMessage({ type: 'done', result });
