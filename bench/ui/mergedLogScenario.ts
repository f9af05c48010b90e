/**
 * The merged-log part of `npm run bench -- ui` (issue 13's goal: the merged log of 10 agents
 * at 1,000 lines/s each holds ≥ 0.9× the frame rate of an empty page). In the page already on
 * the synthetic console: All agents → filter to 10 agents → select them → "Merged log of 10
 * agents"; then the synthetic core pushes 1,000 lines/s into each of the 10 tails through the
 * real EventBatcher and WebSocket path while the caller's rAF probe measures the page.
 */
import type { remote } from 'webdriverio';
import type { SyntheticConsole } from './syntheticConsole';

type Browser = Awaited<ReturnType<typeof remote>>;

/** Agents in the merged log. */
export const MERGED_AGENTS = 10;
/** Lines per second per agent. */
export const MERGED_LINES_PER_SECOND = 1000;

/** What the caller's probe reports (the fields this scenario reads). */
export interface ProbeMetrics {
  readonly fps: number;
  readonly longTasks: number;
  readonly longestTaskMs: number;
  readonly longestFrameGapMs: number;
}

/** The caller's in-page probe: start before the load, stop after it. */
export interface Probe<M extends ProbeMetrics> {
  start(): Promise<void>;
  stop(): Promise<M>;
}

export interface MergedLogRun<M extends ProbeMetrics> {
  readonly metrics: M;
  /** Lines the synthetic core generated (all agents). */
  readonly generated: number;
  /** Lines the view counted when the run ended (its count text). */
  readonly shownText: string;
}

const tid = (id: string): string => `[data-testid="${id}"]`;

/**
 * Opens the merged log of the first {@link MERGED_AGENTS} agents and measures the page while
 * each gets {@link MERGED_LINES_PER_SECOND} lines per second for `seconds`.
 * @throws Error when a step of the way there does not show what it should within 30 s
 */
export async function runMergedLogScenario<M extends ProbeMetrics>(
  browser: Browser,
  synthetic: SyntheticConsole,
  probe: Probe<M>,
  seconds: number,
): Promise<MergedLogRun<M>> {
  await browser.$(tid('nav-fleet')).click();
  await browser.$(tid('fleet-view')).waitForDisplayed({ timeout: 30_000 });
  // agent-00000 … agent-00009: exactly ten names start with this.
  await browser.$(tid('fleet-filter')).setValue('agent-0000');
  await browser.waitUntil(
    async () => (await browser.$(tid('fleet-shown')).getText()) === `${MERGED_AGENTS} shown`,
    { timeout: 30_000, timeoutMsg: `the fleet filter never showed ${MERGED_AGENTS} agents` },
  );
  await browser.$(`${tid('fleet-view')} ${tid('agents-select-all')}`).click();
  const open = browser.$(tid('fleet-merged-log'));
  await browser.waitUntil(async () => (await open.getText()) === `Merged log of ${MERGED_AGENTS} agents`, {
    timeout: 30_000,
    timeoutMsg: `${MERGED_AGENTS} agents were never selected`,
  });
  await open.click();
  await browser.waitUntil(() => synthetic.tailCount() === MERGED_AGENTS, {
    timeout: 30_000,
    timeoutMsg: `the merged log never tailed ${MERGED_AGENTS} agents`,
  });
  await browser.pause(1000);
  await probe.start();
  const generated = await synthetic.tails(MERGED_LINES_PER_SECOND, seconds);
  const metrics = await probe.stop();
  const shownText = await browser.$(tid('merged-log-count')).getText();
  return { metrics, generated, shownText };
}
