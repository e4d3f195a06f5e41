import { parentPort, workerData } from 'node:worker_threads';
import { runTraining } from './training-core.js';
import type { TrainingJob } from './training-core.js';

/*
 * Worker-thread entry: trains off the emulator's event loop. Messages to the parent:
 *   { kind: 'progress', message } … then { kind: 'done', outcome } or { kind: 'failed', message }.
 */

const port = parentPort;
if (!port) throw new Error('train-worker must run in a worker thread');

runTraining(workerData as TrainingJob, (message) => {
  port.postMessage({ kind: 'progress', message });
}).then(
  (outcome) => {
    port.postMessage({ kind: 'done', outcome });
  },
  (error: unknown) => {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  },
);
