/**
 * Entry script of the engine worker thread (started by {@link WorkerCaptioner}); not a module to
 * import. It serves one engine until the main thread disposes it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runWorkerHost } from './worker-host';
import type { WorkerData } from './worker-protocol';

if (parentPort === null) throw new Error('worker-main.js is the engine worker entry; start it with new Worker()');
// runWorkerHost reports load and run errors as messages; a rejection here is a bug and surfaces as
// an unhandled rejection, i.e. the Worker's 'error' event on the main thread.
void runWorkerHost(parentPort, (workerData as WorkerData).request);
