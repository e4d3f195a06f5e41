import { parentPort, workerData } from 'node:worker_threads';
import { EPOCH_PROGRESS, runTraining } from './training-core.js';
import type { WorkerInput } from './training.js';

/*
 * Worker-thread entry: trains off the emulator's event loop. Messages to the parent:
 *   { kind: 'progress', message } … then { kind: 'done', outcome } or { kind: 'failed', message }.
 * With a hold signal (tests only), the worker waits after its first epoch report until the parent sets it.
 */

const port = parentPort;
if (!port) throw new Error('train-worker must run in a worker thread');
const { job, holdSignal } = workerData as WorkerInput;
let held = false;

runTraining(job, (message) => {
  port.postMessage({ kind: 'progress', message });
  if (holdSignal && !held && message.startsWith(EPOCH_PROGRESS)) {
    held = true;
    Atomics.wait(holdSignal, 0, 0);
  }
}).then(
  (outcome) => {
    port.postMessage({ kind: 'done', outcome });
  },
  (error: unknown) => {
    port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  },
);
