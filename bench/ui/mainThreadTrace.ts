/**
 * The renderer main thread's tasks, measured by Chromium's own tracing (the `toplevel`
 * category's `ThreadControllerImpl::RunTask` events: every task the thread ran, script, style,
 * layout and paint alike, with its wall-clock duration), over the Chrome DevTools Protocol of
 * the browser WebdriverIO started (chromedriver reports its address as
 * `goog:chromeOptions.debuggerAddress`).
 *
 * Why not only the page's Long Tasks API: it reports nothing under 50 ms, so when it is silent
 * the longest task is known only to be at most 50 ms; the trace gives the figure itself, and
 * shows whether a long gap between frames was one long task or several shorter ones in a row.
 */
import WebSocket from 'ws';

/** A task the renderer main thread ran. */
export interface TracedTask {
  /** Start, ms after the trace began. */
  readonly atMs: number;
  readonly durationMs: number;
}

export interface MainThreadTasks {
  /** Tasks on the page's renderer main thread (the busiest `CrRendererMain`). */
  readonly tasks: number;
  readonly longestMs: number;
  /** The longest tasks, longest first (at most 5). */
  readonly top: readonly TracedTask[];
  /** Share of the traced time the thread spent running tasks, 0..1. */
  readonly busy: number;
  /** CPU time of the thread's tasks, ms (less sensitive than wall time to other load). */
  readonly cpuMs: number;
  /** The longest task's CPU time, ms. */
  readonly longestCpuMs: number;
  /** With `detail`: what filled each of the longest tasks (see `breakdownOf`); else empty. */
  readonly breakdown: readonly string[];
}

/** A running trace; `stop` ends it and measures the main thread. */
export interface MainThreadTrace {
  stop(): Promise<MainThreadTasks>;
}

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  /** Thread (CPU) time, µs. */
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly params?: { readonly value?: readonly TraceEvent[] };
  readonly error?: { readonly message: string };
}

const RUN_TASK = 'ThreadControllerImpl::RunTask';
/** Enough to name what a task did (script, microtasks, style, layout, paint); far fewer events than `devtools.timeline.*`. */
const DETAIL_CATEGORIES = ['devtools.timeline', 'v8.execute'];

/**
 * Starts tracing the browser at `debuggerAddress` ("host:port"). With `detail`, the events
 * inside the longest tasks are kept too and `stop` names what filled each of them
 * (`MainThreadTasks.breakdown`); the trace is then heavier, so the figures are for diagnosis.
 * @throws when the browser's DevTools endpoint cannot be reached or refuses to trace
 */
export async function startMainThreadTrace(
  debuggerAddress: string,
  detail = false,
): Promise<MainThreadTrace> {
  const version = (await (await fetch(`http://${debuggerAddress}/json/version`)).json()) as {
    webSocketDebuggerUrl?: string;
  };
  if (version.webSocketDebuggerUrl === undefined)
    throw new Error(`ui bench: ${debuggerAddress} gave no browser DevTools endpoint`);
  const socket = new WebSocket(version.webSocketDebuggerUrl, { perMessageDeflate: false });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => {
      resolve();
    });
    socket.once('error', reject);
  });
  const events: TraceEvent[] = [];
  const waiting = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let complete: { resolve: () => void; reject: (e: Error) => void } | null = null;
  socket.on('message', (data: Buffer) => {
    const msg = JSON.parse(data.toString('utf8')) as CdpMessage;
    if (msg.method === 'Tracing.dataCollected') {
      for (const e of msg.params?.value ?? [])
        if (detail || e.name === RUN_TASK || e.ph === 'M') events.push(e);
    } else if (msg.method === 'Tracing.tracingComplete') {
      complete?.resolve();
    } else if (msg.id !== undefined) {
      const w = waiting.get(msg.id);
      waiting.delete(msg.id);
      if (msg.error !== undefined) w?.reject(new Error(`ui bench: DevTools refused: ${msg.error.message}`));
      else w?.resolve();
    }
  });
  socket.on('close', () => {
    // The browser went away mid-trace: fail the bench rather than wait for ever.
    const gone = new Error('ui bench: the browser closed its DevTools connection during a trace');
    for (const w of waiting.values()) w.reject(gone);
    waiting.clear();
    complete?.reject(gone);
  });
  let nextId = 1;
  const call = (method: string, params: object = {}): Promise<void> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  const categories = ['toplevel', '__metadata', ...(detail ? DETAIL_CATEGORIES : [])];
  await call('Tracing.start', {
    traceConfig: { includedCategories: categories },
    transferMode: 'ReportEvents',
  });
  const startedAt = performance.now();
  return {
    async stop(): Promise<MainThreadTasks> {
      const tracedMs = performance.now() - startedAt;
      const done = new Promise<void>((resolve, reject) => {
        complete = { resolve, reject };
      });
      await call('Tracing.end');
      await done;
      socket.close();
      return mainThreadTasks(events, tracedMs, detail);
    },
  };
}

const threadOf = (e: TraceEvent): string => `${String(e.pid)}:${String(e.tid)}`;
const durationOf = (e: TraceEvent): number => e.dur ?? 0;

/** The busiest renderer main thread's tasks among `events`. */
function mainThreadTasks(events: readonly TraceEvent[], tracedMs: number, detail: boolean): MainThreadTasks {
  const mains = new Set(
    events
      .filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')
      .map(threadOf),
  );
  const byThread = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.name !== RUN_TASK || e.ph !== 'X' || !mains.has(threadOf(e))) continue;
    const list = byThread.get(threadOf(e)) ?? [];
    list.push(e);
    byThread.set(threadOf(e), list);
  }
  // The about:blank page and the app may run in different renderer processes: the page
  // measured is the one that worked.
  const busyUs = (list: readonly TraceEvent[]): number => list.reduce((sum, e) => sum + durationOf(e), 0);
  let main: TraceEvent[] = [];
  let mainBusyUs = 0;
  for (const list of byThread.values()) {
    const busy = busyUs(list);
    if (busy > mainBusyUs) [main, mainBusyUs] = [list, busy];
  }
  const first = main.reduce((m, e) => Math.min(m, e.ts), Number.POSITIVE_INFINITY);
  const longestFirst = [...main].sort((a, b) => durationOf(b) - durationOf(a));
  const top = longestFirst
    .slice(0, 5)
    .map((e) => ({ atMs: (e.ts - first) / 1000, durationMs: durationOf(e) / 1000 }));
  return {
    tasks: main.length,
    longestMs: top[0]?.durationMs ?? 0,
    top,
    busy: tracedMs > 0 ? mainBusyUs / 1000 / tracedMs : 0,
    cpuMs: main.reduce((sum, e) => sum + (e.tdur ?? 0), 0) / 1000,
    longestCpuMs: main.reduce((m, e) => Math.max(m, e.tdur ?? 0), 0) / 1000,
    breakdown: detail ? longestFirst.slice(0, 8).map((t) => breakdownOf(t, events, first)) : [],
  };
}

/**
 * What filled `task`: the summed duration of each kind of event inside it on its thread, e.g.
 * "42.1 ms at 0.8 s: FunctionCall 20.3, Layout 8.1, …". Nested events (microtasks run inside a
 * rAF callback) are counted in each, so the parts may add up to more than the task.
 */
function breakdownOf(task: TraceEvent, events: readonly TraceEvent[], first: number): string {
  const parts = new Map<string, number>();
  const end = task.ts + durationOf(task);
  for (const e of events) {
    if (
      e.ph !== 'X' ||
      e.name === RUN_TASK ||
      threadOf(e) !== threadOf(task) ||
      e.ts < task.ts ||
      e.ts >= end
    )
      continue;
    parts.set(e.name, (parts.get(e.name) ?? 0) + durationOf(e) / 1000);
  }
  const named = [...parts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    .join(', ');
  return `${(durationOf(task) / 1000).toFixed(1)} ms at ${((task.ts - first) / 1e6).toFixed(1)} s: ${named}`;
}
