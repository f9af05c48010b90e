import { scanSegments } from './scanSegments';
import type { ScanJob } from './scanSegments';

/** Nice value a query worker gives its own thread on Linux (0 is normal, 19 the lowest). */
export const QUERY_WORKER_NICE = 10;

/** A job posted to a query worker. */
export interface WorkerRequest {
  readonly id: number;
  readonly job: ScanJob;
}

/** A query worker's answer to the job with the same `id`. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly total: number; readonly hits: Uint32Array }
  | { readonly id: number; readonly ok: false; readonly error: string };

/**
 * The JavaScript a query worker runs (`new Worker(source, { eval: true })`). A source string
 * rather than a file: the server is also bundled into one file for the packaged app, and runs
 * from TypeScript under tsx, and an eval worker works the same in both.
 *
 * On Linux the worker lowers its own thread's priority (the nice value is per thread there),
 * so the server's main thread, which answers health checks and every other request, wins the
 * CPU while regex scans run. Elsewhere `setPriority` would lower the whole process: not done.
 */
export function queryWorkerSource(): string {
  return `'use strict';
// tsx (esbuild keepNames) may wrap inner functions in __name(fn, "name"): a harmless stand-in.
var __name = function (fn) { return fn; };
const { parentPort } = require('node:worker_threads');
if (process.platform === 'linux') {
  try { require('node:os').setPriority(${QUERY_WORKER_NICE}); } catch (e) { /* keep the default priority */ }
}
const scanSegments = (${scanSegments.toString()});
parentPort.on('message', function (msg) {
  let reply;
  try {
    const found = scanSegments(msg.job);
    reply = { id: msg.id, ok: true, total: found.total, hits: found.hits };
  } catch (e) {
    reply = { id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort.postMessage(reply, reply.ok ? [reply.hits.buffer] : []);
});
`;
}
