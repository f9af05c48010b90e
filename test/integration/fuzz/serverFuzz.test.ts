/**
 * Issue 11.9, the 20-second version of `npm run fuzz -- server`: ~10 s of random and mutated
 * frames against a live server in each mode, health within 100 ms and RSS under 400 MB at every
 * check (each 1 000 frames and at the end), every reply well framed and decodable, no handler
 * exception. A failure prints the seed: `npm run fuzz -- server --mode <mode> --seed <seed>`
 * replays it.
 */
import { describe, expect, it } from 'vitest';
import { runServerFuzz } from '../../../fuzz/serverFuzz';
import { randomSeed } from '../../../fuzz/prng';
import { PortAllocator } from '../../helpers/ports';

const ports = new PortAllocator(20300, 20499);

describe('fuzzing a live agent server', () => {
  it.each(['curve', 'insecure'] as const)(
    '%s: ~10 s of fuzzed frames, no violation',
    async (mode) => {
      const seed = randomSeed();
      const report = await runServerFuzz({ mode, seed, durationMs: 10_000, ports });
      const replay = `replay: npm run fuzz -- server --mode ${mode} --seed ${seed}`;
      expect(report.violations, replay).toEqual([]);
      // It really fuzzed, and checked: a run that sent nothing would pass vacuously.
      expect(report.frames, replay).toBeGreaterThan(1000);
      expect(report.checks, replay).toBeGreaterThan(1);
      expect(Object.keys(report.kinds).length, replay).toBeGreaterThan(20);
      expect(Number(report.serverStats['stat.decode_errors']), replay).toBeGreaterThan(0);
    },
    60_000,
  );
});
