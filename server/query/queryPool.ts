import { Worker } from 'node:worker_threads';
import { RegexTimeoutError } from '../regexFilter';
import { queryWorkerSource } from './queryWorkerSource';
import type { WorkerReply, WorkerRequest } from './queryWorkerSource';
import type { ScanHits, ScanJob } from './scanSegments';

/** Limits of a {@link QueryPool}. */
export interface QueryPoolOptions {
  /** Most scans running at once, one worker thread each (config `max_concurrent_queries`). */
  readonly concurrency: number;
  /** Most scans waiting for a free worker (config `max_waiting_queries`); one more is refused. */
  readonly maxWaiting: number;
  /** Old-generation heap cap of each worker in MiB (default 256): a runaway worker dies alone. */
  readonly workerHeapMb?: number;
  /**
   * Longest wait for a worker, in ms (default {@link DEFAULT_MAX_WAIT_MS}). A scan still
   * waiting then is refused: its client (30 s timeout by default) would have given up before
   * it finished, and running it anyway would only delay the next ones.
   */
  readonly maxWaitMs?: number;
}

/** Default longest wait for a worker: 15 s, so a waiting scan plus its 2 s budget ends well inside a 30 s client timeout. */
export const DEFAULT_MAX_WAIT_MS = 15_000;

/** A scan refused because every worker is busy and the waiting line is full. */
export class QueryRefusedError extends Error {
  override readonly name = 'QueryRefusedError';
  constructor(running: number, waiting: number, waitedMs?: number) {
    super(
      waitedMs === undefined
        ? `server busy: ${running} regex output queries are running and ${waiting} more are waiting ` +
            `(the limits max_concurrent_queries and max_waiting_queries); try again shortly`
        : `server busy: no query worker came free within ${waitedMs >= 1000 ? `${Math.round(waitedMs / 1000)} s` : `${waitedMs} ms`} ` +
            `(${running} regex output queries running at a time, max_concurrent_queries); try again shortly`,
    );
  }
}

/** A scan that could not finish: its worker crashed or ran out of memory, or the pool closed. */
export class QueryFailedError extends Error {
  override readonly name = 'QueryFailedError';
}

interface Task {
  readonly id: number;
  readonly job: ScanJob;
  readonly budgetMs: number;
  readonly resolve: (hits: ScanHits) => void;
  readonly reject: (error: Error) => void;
  /** Refuses the scan if it is still waiting for a worker; cleared once it starts. */
  waitTimer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker | null;
  /** The worker runs JavaScript (its budget clock may start). */
  online: boolean;
  task: Task | null;
  timer: NodeJS.Timeout | null;
  /** A worker stopped for running over budget is still shutting down: not free yet. */
  stopping: boolean;
}

/**
 * Runs regex output scans ({@link ScanJob}) in worker threads, so that a slow or catastrophic
 * pattern never blocks the server's event loop.
 *
 * - At most `concurrency` scans run at once; up to `maxWaiting` more wait in arrival order;
 *   beyond that {@link scan} fails at once with {@link QueryRefusedError}.
 * - Each scan gets `budgetMs` of run time, counted from when its worker is running (waiting
 *   time is not counted). Over budget, the worker is terminated (`worker.terminate()` stops
 *   even a regex stuck in backtracking) and replaced on the next scan; the scan fails with
 *   {@link RegexTimeoutError}. The slot is free again once the old thread has stopped, so the
 *   number of busy threads never exceeds `concurrency`.
 * - Workers start on first use (tens of ms) and are kept; they do not keep the process alive.
 */
export class QueryPool {
  private readonly slots: Slot[];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly options: QueryPoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.concurrency) }, () => ({
      worker: null,
      online: false,
      task: null,
      timer: null,
      stopping: false,
    }));
  }

  /** Scans running now. */
  get running(): number {
    return this.slots.filter((s) => s.task !== null).length;
  }

  /** Scans waiting for a worker now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs one scan.
   * @param budgetMs run-time budget in milliseconds
   * @returns the matches' count and positions
   * @throws (rejects) RegexTimeoutError over budget; QueryRefusedError when the pool and its
   *   waiting line are full; QueryFailedError when the worker crashed or the pool is closed
   */
  scan(job: ScanJob, budgetMs: number): Promise<ScanHits> {
    if (this.closed) return Promise.reject(new QueryFailedError('the server is shutting down'));
    return new Promise<ScanHits>((resolve, reject) => {
      const task: Task = { id: this.nextId++, job, budgetMs: Math.max(1, budgetMs), resolve, reject };
      const free = this.freeSlot();
      // A slot whose over-budget worker is still stopping is as good as free: a scan may wait
      // for it beyond maxWaiting (so a retry right after a timeout is not refused).
      const stopping = this.slots.filter((s) => s.stopping).length;
      if (free) this.start(free, task);
      else if (this.waiting.length < this.options.maxWaiting + stopping) this.enqueue(task);
      else reject(new QueryRefusedError(this.slots.length, this.options.maxWaiting));
    });
  }

  private enqueue(task: Task): void {
    const maxWaitMs = this.options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
    task.waitTimer = setTimeout(() => {
      const i = this.waiting.indexOf(task);
      if (i === -1) return;
      this.waiting.splice(i, 1);
      task.reject(new QueryRefusedError(this.slots.length, this.options.maxWaiting, maxWaitMs));
    }, maxWaitMs);
    task.waitTimer.unref();
    this.waiting.push(task);
  }

  /** Fails waiting and running scans with QueryFailedError and stops every worker. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    const gone = new QueryFailedError('the server is shutting down');
    for (const task of this.waiting.splice(0)) {
      clearTimeout(task.waitTimer);
      task.reject(gone);
    }
    const stopping: Promise<number>[] = [];
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
      slot.task?.reject(gone);
      slot.task = null;
      if (slot.worker) stopping.push(slot.worker.terminate());
      slot.worker = null;
    }
    await Promise.all(stopping);
  }

  private freeSlot(): Slot | undefined {
    return this.slots.find((s) => s.task === null && !s.stopping);
  }

  private start(slot: Slot, task: Task): void {
    clearTimeout(task.waitTimer);
    slot.task = task;
    try {
      const worker = slot.worker ?? this.spawn(slot);
      const request: WorkerRequest = { id: task.id, job: task.job };
      worker.postMessage(request);
    } catch (error) {
      // No thread could be started (out of memory, too many threads): fail this scan only.
      this.lose(
        slot,
        `cannot start a query worker: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    // A new worker's start-up (tens of ms, more on a busy machine) is not the pattern's fault.
    if (slot.online) this.arm(slot, task);
  }

  private arm(slot: Slot, task: Task): void {
    slot.timer = setTimeout(() => {
      this.overBudget(slot, task);
    }, task.budgetMs);
  }

  private spawn(slot: Slot): Worker {
    const worker = new Worker(queryWorkerSource(), {
      eval: true,
      // Plain JavaScript: the parent's flags (e.g. `--import tsx`) would only slow the start.
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: this.options.workerHeapMb ?? 256 },
    });
    worker.unref();
    slot.worker = worker;
    slot.online = false;
    worker.on('online', () => {
      if (slot.worker !== worker) return;
      slot.online = true;
      if (slot.task && slot.timer === null) this.arm(slot, slot.task);
    });
    worker.on('message', (reply: WorkerReply) => {
      const task = slot.task;
      if (slot.worker !== worker || task === null || reply.id !== task.id) return;
      this.release(slot);
      if (reply.ok) task.resolve({ total: reply.total, hits: reply.hits });
      else task.reject(new QueryFailedError(`output query failed: ${reply.error}`));
    });
    worker.on('error', (error) => {
      if (slot.worker === worker) this.lose(slot, `the query worker failed: ${error.message}`);
    });
    worker.on('exit', (code) => {
      if (slot.worker === worker) this.lose(slot, `the query worker exited (code ${code})`);
    });
    return worker;
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    this.pump();
  }

  private overBudget(slot: Slot, task: Task): void {
    slot.timer = null;
    if (slot.task !== task) return;
    const worker = slot.worker;
    slot.worker = null;
    slot.online = false;
    slot.task = null;
    slot.stopping = true;
    task.reject(new RegexTimeoutError(task.budgetMs));
    const done = (): void => {
      slot.stopping = false;
      this.pump();
    };
    if (worker) worker.terminate().then(done, done);
    else done();
  }

  private lose(slot: Slot, message: string): void {
    const task = slot.task;
    slot.worker = null;
    slot.online = false;
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.task = null;
    task?.reject(new QueryFailedError(message));
    this.pump();
  }

  private pump(): void {
    if (this.closed) return;
    for (;;) {
      const free = this.waiting.length > 0 ? this.freeSlot() : undefined;
      const task = free ? this.waiting.shift() : undefined;
      if (!free || !task) return;
      this.start(free, task);
    }
  }
}
