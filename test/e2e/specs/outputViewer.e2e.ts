/// <reference types="mocha" />
/**
 * The output viewer on an agent that keeps printing (issue 13): follow stays on while lines pour
 * in and turns off only when the operator scrolls up, which shows a "N new lines" pill; a
 * filtered view shows the lines' original numbers, marks the matches, and "show in context"
 * opens the unfiltered view at that line. Real console, real agent server, real agent.
 */
import assert from 'node:assert/strict';
import { $, $$, browser } from '@wdio/globals';
import { e2eSuite, openConsoleOnServer } from '../helpers/e2eStack';
import {
  agentRow,
  closeSpawnDialog,
  shotBothThemes,
  spawnFixture,
  tid,
  typeInto,
  waitAgentStatus,
  waitFor,
} from '../helpers/ui';

/** What the viewport shows at one moment, read in one go (the agent keeps printing). */
interface TailSample {
  following: boolean;
  total: number;
  lastIndex: number;
  /** The last rendered line lies inside the viewport's box. */
  lastVisible: boolean;
}

function sampleTail(): Promise<TailSample> {
  return browser.execute((): TailSample => {
    const q = (id: string) => document.querySelector(`[data-testid="${id}"]`);
    const viewport = q('output-viewport') as HTMLElement;
    const rows = viewport.querySelectorAll('[data-testid="output-line"]');
    const last = rows[rows.length - 1] as HTMLElement | undefined;
    const box = viewport.getBoundingClientRect();
    const lastBox = last?.getBoundingClientRect();
    return {
      following: (q('output-follow') as HTMLInputElement).checked,
      total: Number((q('output-count')?.textContent ?? '').replace(/[^\d]/g, '')),
      lastIndex: Number(last?.dataset.index ?? -1),
      lastVisible: lastBox !== undefined && lastBox.top >= box.top && lastBox.bottom <= box.bottom + 1,
    };
  });
}

async function pillCount(): Promise<number> {
  const text = await $(tid('output-new-lines')).getText();
  return Number(text.replace(/[^\d]/g, ''));
}

describe('output viewer: follow, new-lines pill, original numbers, show in context', function () {
  e2eSuite(8, (stack) => openConsoleOnServer(stack, 'e2e output'));

  it('keeps following an agent that prints continuously for over 10 s, newest line in view', async function () {
    this.timeout(60_000);
    await spawnFixture('ticker', 'ticker.js');
    await closeSpawnDialog();
    await waitAgentStatus('ticker', 'running');
    await (await agentRow('ticker')).$(tid('agent-open')).click();
    await waitFor(async () => (await sampleTail()).total > 60, 'the ticker has printed a screenful');
    await $(tid('output-bottom')).click();
    const started = Date.now();
    const samples: TailSample[] = [];
    while (Date.now() - started < 11_000) {
      samples.push(await sampleTail());
      await browser.pause(250);
    }
    const first = samples[0];
    const lastSample = samples.at(-1);
    assert.ok(first && lastSample && lastSample.total > first.total + 100, 'the agent kept printing');
    for (const s of samples) {
      assert.equal(s.following, true, `follow turned itself off: ${JSON.stringify(s)}`);
      assert.ok(s.lastVisible, `the last line is out of view: ${JSON.stringify(s)}`);
      // Within a burst or two of the newest line (the sample may fall between two frames).
      assert.ok(s.lastIndex >= s.total - 7, `the newest line is not in view: ${JSON.stringify(s)}`);
    }
    await waitFor(
      async () => (await $$(`${tid('output-line')}[data-stream="stderr"]`).length) > 0,
      'a stderr line',
    );
    await shotBothThemes('output-following');
  });

  it('a scroll up turns follow off and shows a pill whose count grows; the pill resumes following', async function () {
    const viewport = $(tid('output-viewport'));
    await browser.action('wheel').scroll({ origin: viewport, deltaY: -2000, duration: 200 }).perform();
    await waitFor(async () => !(await sampleTail()).following, 'follow off after the scroll up');
    await $(tid('output-new-lines')).waitForDisplayed({ timeout: 10_000 });
    const before = await pillCount();
    await browser.pause(1500);
    const after = await pillCount();
    assert.ok(after > before, `the pill count grows (${before} → ${after})`);
    assert.match(await $(tid('output-new-lines')).getText(), /^[\d,]+ new lines ↓$/);
    await shotBothThemes('output-pill');
    await $(tid('output-new-lines')).click();
    await waitFor(async () => (await sampleTail()).following, 'follow back on');
    await waitFor(async () => !(await $(tid('output-new-lines')).isExisting()), 'the pill gone');
    const s = await sampleTail();
    assert.ok(s.lastVisible && s.lastIndex >= s.total - 7, `back at the newest line: ${JSON.stringify(s)}`);
  });

  it('a filtered view shows original numbers and marks matches; show in context jumps there', async function () {
    // stdout holds `tick i` for every i not divisible by 7: `tick i` is stdout line i - floor(i/7).
    await $(tid('output-stream-stdout')).click();
    await typeInto('output-filter', '^tick \\d*5$');
    await browser.keys(['Enter']);
    await waitFor(async () => /matching/.test(await $(tid('output-count')).getText()), 'the filtered count');
    await $(tid('output-top')).click();
    await waitFor(async () => (await $$(tid('output-match')).length) > 3, 'marked matches');
    const rows = await browser.execute((): { number: number; text: string }[] => {
      const found = document.querySelectorAll<HTMLElement>('[data-testid="output-line"]');
      const out: { number: number; text: string }[] = [];
      for (let i = 0; i < Math.min(4, found.length); i++) {
        const el = found.item(i);
        out.push({ number: Number(el.dataset.number), text: el.querySelector('.text')?.textContent ?? '' });
      }
      return out;
    });
    assert.deepEqual(
      rows.map((r) => r.text),
      ['tick 5', 'tick 15', 'tick 25', 'tick 45'],
    );
    assert.deepEqual(
      rows.map((r) => r.number),
      [5, 13, 22, 39],
      'original stdout line numbers, not 1, 2, 3, 4',
    );
    await shotBothThemes('output-filtered');

    const target = rows[2];
    assert.ok(target);
    await $$(tid('output-show-context'))[2]?.click();
    const context = $('.line.context');
    await context.waitForDisplayed({ timeout: 10_000, timeoutMsg: 'the line in context' });
    assert.equal(await context.getAttribute('data-number'), String(target.number));
    assert.equal(await context.$('.text').getText(), target.text);
    assert.equal(await $(tid('output-filter')).getValue(), '', 'the unfiltered view');
    assert.ok(await context.isDisplayed({ withinViewport: true }), 'the line is scrolled into view');
    const neighbours = await $$(tid('output-line')).map((el) => el.getAttribute('data-number'));
    assert.ok(neighbours.includes(String(target.number - 1)), 'lines around it are shown');
    await shotBothThemes('output-context');
  });
});
