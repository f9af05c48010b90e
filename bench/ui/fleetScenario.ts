/**
 * The all-servers agents table at fleet scale (issue 14 item 4), part of `npm run bench --
 * fleet`: the built renderer in headless Chromium (Debian's `/usr/bin/chromium` through
 * WebdriverIO), served by the real browser host over a synthetic console of 100 servers × 100
 * agents (`syntheticConsole.ts`). On `#/fleet` with all 10,000 rows listed, each step types a
 * filter (an `input` event on the filter field) or clicks a column header to sort, and the
 * page measures from just before the event to the first task after the next frame (a
 * requestAnimationFrame callback, then a MessageChannel message: the frame with the new rows
 * has been painted). Goal ≤ 100 ms. Raw baseline in the same page: `Array.prototype.filter`
 * with the same match rule and a sort of the same 10,000 rows by the same key (an
 * `Intl.Collator`), no rendering.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { remote } from 'webdriverio';
import { startBrowserHost } from '../../main/browser/browserHost';
import { chromiumCapabilities } from '../../test/e2e/chromium';
import { boundResult, median, type BenchResult } from '../harness';
import { createSyntheticConsole } from './syntheticConsole';

type Browser = Awaited<ReturnType<typeof remote>>;

const SERVERS = 100;
const AGENTS = 10_000;
const GOAL_MS = 100;
/** Each round types every filter and clicks every sort once. */
const ROUNDS = 5;
/** Needles: a hundred names, a third (backend), a hundred and eleven tasks, and clearing it. */
const FILTERS = ['agent-001', 'claude', 'task 99', ''] as const;
const SORTS = ['name', 'status', 'backend', 'startedAt', 'updatedAt', 'server'] as const;

/** The fields the raw baseline filters and sorts, per row as the fleet table has them. */
interface RawRow {
  id: string;
  name: string;
  status: string;
  backend: string;
  task: string;
  startedAt: number;
  serverName: string;
}

interface Step {
  readonly ms: number;
  /** Of `ms`, until the microtask after the event: Vue's update (filter, sort, DOM patch) is done. */
  readonly jsMs: number;
  readonly shown: string;
}

const tid = (id: string): string => `[data-testid="${id}"]`;

/** One filter or sort in the page: event → the next frame painted. */
async function step(browser: Browser, kind: 'filter' | 'sort', arg: string): Promise<Step> {
  // WebDriver waits for the promise the script returns.
  return await browser.execute(
    async (k: string, a: string) => {
      const afterPaint = (): Promise<void> =>
        new Promise((resolve) => {
          requestAnimationFrame(() => {
            const channel = new MessageChannel();
            channel.port1.onmessage = () => {
              resolve();
            };
            channel.port2.postMessage(0);
          });
        });
      await afterPaint();
      const view = document.querySelector('[data-testid="fleet-view"]');
      const t0 = performance.now();
      if (k === 'filter') {
        const input = view?.querySelector<HTMLInputElement>('[data-testid="fleet-filter"]');
        if (!input) throw new Error('no fleet filter field');
        input.value = a;
        input.dispatchEvent(new Event('input', { bubbles: true }));
      } else {
        const header = view?.querySelector<HTMLButtonElement>(`[data-testid="agents-sort-${a}"]`);
        if (!header) throw new Error(`no sort header ${a}`);
        header.click();
      }
      // Queued after Vue's scheduler flush (queued by the event's handler), so it runs after it.
      let jsMs = 0;
      queueMicrotask(() => {
        jsMs = performance.now() - t0;
      });
      await afterPaint();
      const ms = performance.now() - t0;
      return { ms, jsMs, shown: view?.querySelector('[data-testid="fleet-shown"]')?.textContent ?? '' };
    },
    kind,
    arg,
  );
}

/** The raw baseline of one step, in the same page: filter + sort of plain rows, no DOM. */
function rawStep(browser: Browser, kind: 'filter' | 'sort', arg: string): Promise<Step> {
  return browser.execute(
    (k: string, a: string) => {
      const w = window as unknown as { __rawRows: RawRow[]; __rawNeedle: string; __rawKey: string };
      const rows = w.__rawRows;
      const collator = new Intl.Collator();
      if (k === 'filter') w.__rawNeedle = a;
      else w.__rawKey = a;
      const t0 = performance.now();
      const needle = w.__rawNeedle.trim().toLowerCase();
      const out =
        needle === ''
          ? rows.slice()
          : rows.filter(
              (r) =>
                r.name.toLowerCase().includes(needle) ||
                r.id.includes(needle) ||
                r.task.toLowerCase().includes(needle) ||
                r.backend.toLowerCase().includes(needle),
            );
      const key = w.__rawKey;
      if (key === 'startedAt' || key === 'updatedAt')
        out.sort((x, y) => x.startedAt - y.startedAt || collator.compare(x.id, y.id));
      else if (key === 'server')
        out.sort((x, y) => collator.compare(x.serverName, y.serverName) || collator.compare(x.name, y.name));
      else {
        const field = key as 'name' | 'status' | 'backend';
        out.sort((x, y) => collator.compare(x[field], y[field]) || collator.compare(x.name, y.name));
      }
      const ms = performance.now() - t0;
      return { ms, jsMs: ms, shown: `${out.length.toLocaleString('en-US')} shown` };
    },
    kind,
    arg,
  );
}

/**
 * Runs the scenario and returns its results (filter and sort: median and max, each with the
 * raw baseline's median).
 * @throws Error when the renderer is not built or the page never shows the 10,000 agents
 */
export async function runFleetTableScenario(rendererDir: string, port: number): Promise<BenchResult[]> {
  if (!existsSync(join(rendererDir, 'index.html')))
    throw new Error(
      `fleet bench: ${rendererDir} holds no built renderer; run "npm run build:renderer" first`,
    );
  const synthetic = createSyntheticConsole({ agents: AGENTS, outputLines: 1, servers: SERVERS });
  const host = await startBrowserHost({ handlers: synthetic.handlers, rendererDir, port });
  let browser: Browser | null = null;
  try {
    browser = await remote({ capabilities: chromiumCapabilities, logLevel: 'warn' });
    const page = browser;
    await page.url(`${host.url.split('#')[0] ?? host.url}#/fleet`);
    await page.$(tid('fleet-view')).waitForDisplayed({ timeout: 30_000 });
    await page.waitUntil(async () => (await page.$(tid('fleet-shown')).getText()) === '10,000 shown', {
      timeout: 60_000,
      timeoutMsg: 'the fleet table never showed 10,000 agents',
    });
    const rawRows: RawRow[] = [];
    for (const [serverId, infos] of synthetic.agentsByServer) {
      const serverName =
        (await synthetic.handlers.table.listServers(undefined, noClient)).find(
          (v) => v.profile.id === serverId,
        )?.profile.name ?? serverId;
      for (const info of infos) {
        rawRows.push({
          id: `${serverId}:${info.id}`,
          name: info.name,
          status: info.status,
          backend: info.model_backend,
          task: info.task,
          startedAt: Number(info.started_at.secs_since_epoch) * 1000,
          serverName,
        });
      }
    }
    // As JSON text: WebDriver BiDi serialises an array of 10,000 objects value by value, slowly.
    await page.execute((json: string) => {
      const w = window as unknown as { __rawRows: RawRow[]; __rawNeedle: string; __rawKey: string };
      w.__rawRows = JSON.parse(json) as RawRow[];
      w.__rawNeedle = '';
      w.__rawKey = 'server';
    }, JSON.stringify(rawRows));
    const ours = { filter: [] as number[], sort: [] as number[] };
    const js = { filter: [] as number[], sort: [] as number[] };
    const raw = { filter: [] as number[], sort: [] as number[] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const needle of FILTERS) {
        const a = await step(page, 'filter', needle);
        const b = await rawStep(page, 'filter', needle);
        if (a.shown !== b.shown)
          throw new Error(`fleet bench: filter "${needle}" shows ${a.shown}, raw ${b.shown}`);
        ours.filter.push(a.ms);
        js.filter.push(a.jsMs);
        raw.filter.push(b.ms);
      }
      for (const key of SORTS) {
        const a = await step(page, 'sort', key);
        const b = await rawStep(page, 'sort', key);
        ours.sort.push(a.ms);
        js.sort.push(a.jsMs);
        raw.sort.push(b.ms);
      }
    }
    const list = (xs: readonly number[]): string => xs.map((x) => x.toFixed(1)).join(', ');
    const figures = (what: 'filter' | 'sort', detail: string): BenchResult[] => [
      boundResult(
        `fleet table, ${AGENTS.toLocaleString('en-US')} agents: ${what}, input to painted (median)`,
        median(ours[what]),
        median(raw[what]),
        'ms',
        { op: '<=', value: GOAL_MS },
        `${ROUNDS} rounds of ${detail}; ours: ${list(ours[what])} (of which Vue's update, until the microtask after the event: ${list(js[what])}); raw (Array ${what} of the same rows in the page, no DOM): ${list(raw[what])}`,
      ),
      boundResult(
        `fleet table: ${what}, input to painted (max)`,
        Math.max(...ours[what]),
        Math.max(...raw[what]),
        'ms',
        { op: '<=', value: GOAL_MS },
        `the slowest of the ${ours[what].length} steps above`,
      ),
    ];
    return [
      ...figures('filter', `typing ${FILTERS.map((f) => JSON.stringify(f)).join(', ')}`),
      ...figures('sort', `clicking the ${SORTS.join(', ')} headers`),
    ];
  } finally {
    await browser?.deleteSession().catch(() => undefined);
    await host.close();
    synthetic.handlers.dispose();
  }
}

const noClient = {
  id: 'fleet-bench-raw',
  push: () => undefined,
  onClose: () => undefined,
};
