/**
 * `npm run bench -- ui`: how the renderer holds up, measured in headless Chromium (Debian's
 * `/usr/bin/chromium` through WebdriverIO's standalone `remote()`), against the built renderer
 * served by the real browser host, fed by a synthetic console core (`bench/ui/syntheticConsole.ts`):
 *
 * 1. Status flood: 10,000 agents listed, 10,000 `status` updates per second for 30 s pushed
 *    through the real path (EventBatcher ≤ 20 batches/s → WebSocket → browser client → agents
 *    store → virtualized table, and the status feed store → virtualized feed). Longest
 *    main-thread task (goal ≤ 50 ms) and frames per second (vs. the same rAF loop on an empty
 *    page, goal ≥ 0.9×, i.e. ≥ 54 fps against a 60 fps baseline); then the same flood with the
 *    status feed (open by default) hidden, which isolates the feed's share. Both goals are
 *    printed as pass/miss for each layout, with the machine's load average (a shared machine
 *    makes any figure noisy: compare runs made at a similar load).
 * 2. Output scroll: an agent with 1,000,000 output lines; the viewer is scrolled programmatically
 *    every frame for 10 s (100 lines per frame, plus a jump to a random place every 1.5 s), its
 *    pages fetched through queryOutput. Frames per second (goal ≥ 0.8× the empty page) and
 *    the longest task (goal ≤ 50 ms).
 *
 * The longest main-thread task is measured by Chromium's own trace of each span
 * (bench/ui/mainThreadTrace.ts: every task the renderer main thread ran, script, style, layout
 * and paint alike). Beside it, for comparison, the page's own views: a
 * `PerformanceObserver({type: 'longtask'})` (which only reports tasks over 50 ms) and a
 * requestAnimationFrame loop (frame count and the longest gap between frames; a gap can be
 * several shorter tasks in a row, or the compositor, so it is no task figure).
 *
 * 3. Merged log (bench/ui/mergedLogScenario.ts): 10 agents at 1,000 lines/s each in one
 *    merged log. Frames per second (goal ≥ 0.9× the empty page) and the longest task.
 *
 * Env: `UI_BENCH_FLOOD_S` (default 30), `UI_BENCH_SCROLL_S` (default 10), `UI_BENCH_MERGED_S`
 * (default 10), `UI_BENCH_RAW_S`
 * (default 10), `UI_BENCH_JUMP_EVERY` (frames between random jumps while scrolling; default 90,
 * 0 = never), `UI_BENCH_RENDERER_DIR` (another built renderer to measure, e.g. an older commit's
 * `dist/renderer`, to compare two builds under the same machine load; default `dist/renderer`),
 * `UI_BENCH_TRACE_DETAIL=1` (prints what filled the longest tasks of each span; the heavier
 * trace slows the page, so its figures are for diagnosis only).
 */
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { remote } from 'webdriverio';
import { startBrowserHost } from '../main/browser/browserHost';
import { PortAllocator } from '../test/helpers/ports';
import { chromiumCapabilities } from '../test/e2e/chromium';
import { report, result } from './harness';
import { BENCH_SERVER_NAME, createSyntheticConsole } from './ui/syntheticConsole';
import { startMainThreadTrace, type MainThreadTasks } from './ui/mainThreadTrace';
import { MERGED_AGENTS, MERGED_LINES_PER_SECOND, runMergedLogScenario } from './ui/mergedLogScenario';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The built renderer; `UI_BENCH_RENDERER_DIR` points at another build (e.g. an older commit's, to compare). */
const RENDERER_DIR = process.env.UI_BENCH_RENDERER_DIR ?? join(ROOT, 'dist', 'renderer');
const AGENTS = 10_000;
const UPDATES_PER_SECOND = 10_000;
const OUTPUT_LINES = 1_000_000;
const LONG_TASK_GOAL_MS = 50;
/** Status flood: frames per second at least this share of the raw baseline. */
const FLOOD_FPS_GOAL = 0.9;

const seconds = (name: string, fallback: number): number => {
  const v = Number(process.env[name] ?? '');
  return Number.isFinite(v) && v > 0 ? v : fallback;
};

/** What the in-page probe measured. */
interface PageMetrics {
  frames: number;
  elapsedMs: number;
  fps: number;
  longestFrameGapMs: number;
  longTasks: number;
  longestTaskMs: number;
  /** When each long task started, ms after the probe's first frame. */
  longTaskAt: number[];
  /** Frames on which the output viewer showed at least one line not loaded yet (scroll only). */
  placeholderFrames: number;
  /** The renderer main thread's tasks, from Chromium's trace of the same span. */
  tasks: MainThreadTasks;
}

/** Stops a probe and its trace and gives what they measured. */
type StopProbe = () => Promise<PageMetrics>;

type Browser = Awaited<ReturnType<typeof remote>>;

/** What the in-page probe keeps on `window.__probe` (a type only: the closures run in the page). */
interface Probe {
  running: boolean;
  frames: number;
  first: number;
  last: number;
  longestGap: number;
  longTasks: number[];
  longTaskStarts: number[];
  placeholderFrames: number;
  observer: PerformanceObserver | null;
}

/**
 * Starts the in-page probe and a Chromium trace of the page's main thread; with `scroll`, the
 * rAF loop also scrolls the output viewport. The returned function stops both.
 */
async function startProbe(browser: Browser, scroll: boolean, jumpEvery = 90): Promise<StopProbe> {
  const chromeOptions = (browser.capabilities as { 'goog:chromeOptions'?: { debuggerAddress?: string } })[
    'goog:chromeOptions'
  ];
  if (chromeOptions?.debuggerAddress === undefined)
    throw new Error('ui bench: chromedriver gave no DevTools address (goog:chromeOptions.debuggerAddress)');
  const trace = await startMainThreadTrace(
    chromeOptions.debuggerAddress,
    process.env.UI_BENCH_TRACE_DETAIL === '1',
  );
  await browser.execute(
    (withScroll: boolean, every: number) => {
      const probe: Probe = {
        running: true,
        frames: 0,
        first: 0,
        last: 0,
        longestGap: 0,
        longTasks: [],
        longTaskStarts: [],
        placeholderFrames: 0,
        observer: null,
      };
      (window as unknown as { __probe: Probe }).__probe = probe;
      try {
        probe.observer = new PerformanceObserver((list) => {
          for (const e of list.getEntries()) {
            probe.longTasks.push(e.duration);
            probe.longTaskStarts.push(e.startTime);
          }
        });
        probe.observer.observe({ type: 'longtask', buffered: false });
      } catch {
        probe.observer = null;
      }
      const viewport = document.querySelector<HTMLElement>('[data-testid="output-viewport"]');
      let jumpAt = every > 0 ? every : Number.POSITIVE_INFINITY;
      const loop = (t: number): void => {
        if (!probe.running) return;
        if (probe.frames === 0) probe.first = t;
        else probe.longestGap = Math.max(probe.longestGap, t - probe.last);
        probe.last = t;
        probe.frames++;
        if (withScroll && viewport) {
          if (viewport.querySelector('[data-testid="output-line"] .text.muted')) probe.placeholderFrames++;
          if (probe.frames >= jumpAt) {
            jumpAt += every;
            viewport.scrollTop = Math.floor(Math.random() * (viewport.scrollHeight - viewport.clientHeight));
          } else {
            viewport.scrollTop += 1800;
          }
        }
        requestAnimationFrame(loop);
      };
      requestAnimationFrame(loop);
    },
    scroll,
    jumpEvery,
  );
  return async () => ({ ...(await stopPageProbe(browser)), tasks: await trace.stop() });
}

async function stopPageProbe(browser: Browser): Promise<Omit<PageMetrics, 'tasks'>> {
  return browser.execute(() => {
    const probe = (
      window as unknown as {
        __probe: Probe;
      }
    ).__probe;
    probe.running = false;
    if (probe.observer) {
      for (const e of probe.observer.takeRecords()) {
        probe.longTasks.push(e.duration);
        probe.longTaskStarts.push(e.startTime);
      }
      probe.observer.disconnect();
    }
    const elapsedMs = probe.last - probe.first;
    return {
      frames: probe.frames,
      elapsedMs,
      fps: elapsedMs > 0 ? ((probe.frames - 1) * 1000) / elapsedMs : 0,
      longestFrameGapMs: probe.longestGap,
      longTasks: probe.longTasks.length,
      longestTaskMs: probe.longTasks.reduce((a, b) => Math.max(a, b), 0),
      longTaskAt: probe.longTaskStarts.map((t) => Math.round(t - probe.first)),
      placeholderFrames: probe.placeholderFrames,
    };
  });
}

/**
 * The longest main-thread task, as Chromium's trace measured it, with the page's own views of
 * the same span (Long Tasks API, longest gap between frames) for comparison.
 */
function longest(m: PageMetrics): { ms: number; how: string } {
  const t = m.tasks;
  const top = t.top.map((x) => `${x.durationMs.toFixed(1)} ms at ${(x.atMs / 1000).toFixed(1)} s`).join(', ');
  return {
    ms: t.longestMs,
    how:
      `Chromium trace: ${t.tasks} main-thread tasks, busy ${(t.busy * 100).toFixed(0)}% of the time, ` +
      `${t.cpuMs.toFixed(0)} ms CPU, longest ${t.longestMs.toFixed(1)} ms (${t.longestCpuMs.toFixed(1)} ms CPU); ` +
      `longest five: ${top}; Long Tasks API: ${m.longTasks} over 50 ms; longest frame gap ${m.longestFrameGapMs.toFixed(1)} ms`,
  };
}

/** One layout's flood figures against both goals, e.g. "feed visible: 58.9 fps = 0.98× raw (pass), longest task 33 ms (pass)". */
function floodVerdict(label: string, m: PageMetrics, raw: PageMetrics): string {
  const ratio = m.fps / raw.fps;
  const task = longest(m);
  const verdict = (ok: boolean): string => (ok ? 'pass' : 'MISS');
  return (
    `${label}: ${m.fps.toFixed(1)} fps = ${ratio.toFixed(2)}× raw (goal ≥ ${FLOOD_FPS_GOAL}: ${verdict(ratio >= FLOOD_FPS_GOAL)}), ` +
    `longest task ${task.ms.toFixed(0)} ms (goal ≤ ${LONG_TASK_GOAL_MS}: ${verdict(task.ms <= LONG_TASK_GOAL_MS)})`
  );
}

const load = (): string =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' ');

async function waitText(browser: Browser, testId: string, pattern: RegExp, timeout = 30_000): Promise<void> {
  await browser.waitUntil(async () => pattern.test(await browser.$(`[data-testid="${testId}"]`).getText()), {
    timeout,
    interval: 100,
    timeoutMsg: `${testId} never matched ${String(pattern)}`,
  });
}

export async function run(): Promise<void> {
  if (!existsSync(join(RENDERER_DIR, 'index.html')))
    throw new Error(`ui bench: ${RENDERER_DIR} holds no built renderer; run "npm run build:renderer" first`);
  const floodS = seconds('UI_BENCH_FLOOD_S', 30);
  const scrollS = seconds('UI_BENCH_SCROLL_S', 10);
  const rawS = seconds('UI_BENCH_RAW_S', 10);
  const mergedS = seconds('UI_BENCH_MERGED_S', 10);
  const jumpEnv = Number(process.env.UI_BENCH_JUMP_EVERY ?? '90');
  const jumpEvery = Number.isInteger(jumpEnv) && jumpEnv >= 0 ? jumpEnv : 90;

  const loadAtStart = load();
  const synthetic = createSyntheticConsole({ agents: AGENTS, outputLines: OUTPUT_LINES });
  const port = await new PortAllocator(32750, 32760).next();
  const host = await startBrowserHost({ handlers: synthetic.handlers, rendererDir: RENDERER_DIR, port });
  let browser: Browser | null = null;
  try {
    browser = await remote({ capabilities: chromiumCapabilities, logLevel: 'warn' });

    // Raw baseline: the same probe on an empty page, same browser, same run.
    await browser.url('about:blank');
    const stopRaw = await startProbe(browser, false);
    await browser.pause(rawS * 1000);
    const raw = await stopRaw();

    // 1. Status flood on the agents table.
    await browser.url(host.url);
    await browser.$('[data-testid="server-open"]').waitForExist({ timeout: 30_000 });
    await browser.$('[data-testid="server-card-name"]').waitForExist();
    if ((await browser.$('[data-testid="server-card-name"]').getText()) !== BENCH_SERVER_NAME)
      throw new Error('ui bench: the page does not show the synthetic server');
    await browser.$('[data-testid="server-open"]').click();
    await waitText(browser, 'agents-shown', /^10,000 shown/);
    await browser.pause(1000);
    const stopFlood = await startProbe(browser, false);
    const generated = await synthetic.flood(UPDATES_PER_SECOND, floodS);
    const flood = await stopFlood();
    // The updates reached the page: the table shows recent ticks.
    const shownTicks =
      (await browser.$('[data-testid="agents-viewport"]').getText()).match(/tick (\d+)/g) ?? [];
    const newestShown = Math.max(0, ...shownTicks.map((t) => Number(t.slice(5))));

    // 1b. The same flood with the status feed (open by default) hidden: isolates its cost.
    await browser.$('[data-testid="feed-toggle"]').click();
    await browser.$('[data-testid="status-feed"]').waitForExist({ reverse: true });
    const stopNoFeed = await startProbe(browser, false);
    await synthetic.flood(UPDATES_PER_SECOND, floodS);
    const floodNoFeed = await stopNoFeed();
    await browser.$('[data-testid="feed-toggle"]').click();

    // 2. Scrolling a 1,000,000-line output.
    await browser.$('[data-testid="agent-open"]').click();
    await waitText(browser, 'output-count', /^1,000,000 line/);
    await browser.pause(1000);
    const queriesBefore = synthetic.outputQueries();
    const stopScroll = await startProbe(browser, true, jumpEvery);
    await browser.pause(scrollS * 1000);
    const scroll = await stopScroll();
    const queries = synthetic.outputQueries() - queriesBefore;

    // 3. The merged log of 10 agents.
    const page = browser;
    let stopMerged: StopProbe = () =>
      Promise.reject(new Error('ui bench: the merged-log probe was never started'));
    const merged = await runMergedLogScenario(
      page,
      synthetic,
      {
        start: async () => {
          stopMerged = await startProbe(page, false);
        },
        stop: () => stopMerged(),
      },
      mergedS,
    );
    const mergedLongest = longest(merged.metrics);
    console.log(
      `ui bench: merged log of ${MERGED_AGENTS} agents at ${MERGED_LINES_PER_SECOND}/s each for ${mergedS} s: ` +
        `${merged.generated} lines generated, view shows "${merged.shownText}", ${merged.metrics.fps.toFixed(1)} fps, ` +
        `${merged.metrics.longTasks} long task(s), longest gap ${merged.metrics.longestFrameGapMs.toFixed(1)} ms`,
    );
    const spans: [string, PageMetrics][] = [
      ['flood, feed visible', flood],
      ['flood, feed hidden', floodNoFeed],
      ['output scroll', scroll],
      ['merged log', merged.metrics],
    ];
    for (const [label, m] of spans)
      for (const line of m.tasks.breakdown) console.log(`ui bench, ${label}, long task: ${line}`);
    console.log(`ui bench, status flood (load average now ${load()}; at start ${loadAtStart}):`);
    console.log(`  ${floodVerdict('feed visible', flood, raw)}`);
    console.log(`  ${floodVerdict('feed hidden ', floodNoFeed, raw)}`);
    const floodLongest = longest(flood);
    const noFeedLongest = longest(floodNoFeed);
    const scrollLongest = longest(scroll);
    console.log(
      `ui bench: raw ${raw.fps.toFixed(1)} fps (longest gap ${raw.longestFrameGapMs.toFixed(1)} ms); ` +
        `flood: ${generated} updates generated in ${floodS} s, newest tick shown ${newestShown}, ` +
        `${flood.fps.toFixed(1)} fps, ${flood.longTasks} long task(s), longest gap ${flood.longestFrameGapMs.toFixed(1)} ms; ` +
        `feed hidden: ${floodNoFeed.fps.toFixed(1)} fps, ${floodNoFeed.longTasks} long task(s), longest gap ${floodNoFeed.longestFrameGapMs.toFixed(1)} ms; ` +
        `scroll: ${scroll.fps.toFixed(1)} fps, ${scroll.longTasks} long task(s), longest gap ${scroll.longestFrameGapMs.toFixed(1)} ms, ` +
        `${queries} page queries, ${scroll.placeholderFrames}/${scroll.frames} frames with unloaded lines; ` +
        `scroll long tasks at ${JSON.stringify(scroll.longTaskAt)} ms (longest ${scroll.longestTaskMs.toFixed(0)} ms)`,
    );

    report('ui-status-flood', [
      result(
        `status flood ${AGENTS} agents, ${UPDATES_PER_SECOND}/s for ${floodS} s: longest main-thread task`,
        floodLongest.ms,
        LONG_TASK_GOAL_MS,
        'ms',
        '<= 1',
        `raw = the 50 ms goal; ${floodLongest.how}; ${generated} updates generated, newest tick on screen ${newestShown}`,
      ),
      result(
        'status flood: frames per second',
        flood.fps,
        raw.fps,
        'fps',
        `>= ${FLOOD_FPS_GOAL}`,
        `raw = the same rAF loop on about:blank for ${rawS} s; status feed open (the default layout)`,
      ),
      result(
        'status flood, status feed hidden: longest main-thread task',
        noFeedLongest.ms,
        LONG_TASK_GOAL_MS,
        'ms',
        '<= 1',
        `raw = the 50 ms goal; ${noFeedLongest.how}`,
      ),
      result(
        'status flood, status feed hidden: frames per second',
        floodNoFeed.fps,
        raw.fps,
        'fps',
        `>= ${FLOOD_FPS_GOAL}`,
        'raw = the same rAF loop on about:blank',
      ),
    ]);
    report('ui-output-scroll', [
      result(
        `scroll ${OUTPUT_LINES.toLocaleString('en-US')}-line output for ${scrollS} s: frames per second`,
        scroll.fps,
        raw.fps,
        'fps',
        '>= 0.8',
        `raw = the same rAF loop on about:blank; ${queries} queryOutput pages fetched; ` +
          `${scroll.placeholderFrames} of ${scroll.frames} frames showed lines not loaded yet`,
      ),
      result(
        'scroll output: longest main-thread task',
        scrollLongest.ms,
        LONG_TASK_GOAL_MS,
        'ms',
        '<= 1',
        `raw = the 50 ms goal; ${scrollLongest.how}`,
      ),
    ]);
    report('ui-merged-log', [
      result(
        `merged log of ${MERGED_AGENTS} agents at ${MERGED_LINES_PER_SECOND.toLocaleString('en-US')} lines/s each for ${mergedS} s: frames per second`,
        merged.metrics.fps,
        raw.fps,
        'fps',
        '>= 0.9',
        `raw = the same rAF loop on about:blank; ${merged.generated} lines generated; view: ${merged.shownText}`,
      ),
      result(
        'merged log: longest main-thread task',
        mergedLongest.ms,
        LONG_TASK_GOAL_MS,
        'ms',
        '<= 1',
        `raw = the 50 ms goal; ${mergedLongest.how}`,
      ),
    ]);
  } finally {
    await browser?.deleteSession().catch(() => undefined);
    await host.close();
    synthetic.handlers.dispose();
  }
}
