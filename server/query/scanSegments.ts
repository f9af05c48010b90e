import type { SegmentView } from './lineSegment';

/** One regex output query, as posted to a query worker. */
export interface ScanJob {
  /** The stored lines to search, oldest first. */
  readonly segments: readonly SegmentView[];
  /** Bitmask of accepted stream tags (stdout → 1, stderr → 2, both → 3). */
  readonly mask: number;
  /** `RegExp.source` and `RegExp.flags` of the compiled filter (flags only from i, m, s, u). */
  readonly source: string;
  readonly flags: string;
  /**
   * ASCII text every match contains (see `requiredLiteral`), or null. Only lines that contain
   * it are decoded and tested: a byte search over the segment skips the others.
   */
  readonly literal: string | null;
  /** Matching lines to skip before collecting. */
  readonly offset: number;
  /** Matching lines to collect after the offset. */
  readonly limit: number;
}

/** What a scan found. */
export interface ScanHits {
  /** Every matching line in the segments. */
  readonly total: number;
  /** Where the collected lines are: pairs (index in `segments`, line index in that segment). */
  readonly hits: Uint32Array;
}

/**
 * Tests the filter against every line of the job's segments, one line at a time (so `^`, `$`
 * and `.` mean what they mean for a single line), and collects the positions of matches
 * `offset … offset + limit - 1`. With a `literal`, a line is tested only when a byte search
 * finds the literal starting in it (lines lie back to back, so a hit may run on into the next
 * line: the test on the decoded line decides).
 *
 * Runs inside a query worker from its source text (`scanSegments.toString()`), so it must stay
 * self-contained: no imports, no module-level helpers, and no named inner functions (tsx's
 * esbuild wraps those in `__name(…)` calls; the worker defines a stand-in, but plain loops
 * keep this fast anyway).
 */
export function scanSegments(job: ScanJob): ScanHits {
  const re = new RegExp(job.source, job.flags);
  const hits: number[] = [];
  const collectEnd = job.offset + job.limit;
  const needle = job.literal === null ? null : Buffer.from(job.literal, 'latin1');
  let total = 0;
  for (let s = 0; s < job.segments.length; s++) {
    const seg = job.segments[s] as SegmentView;
    if (seg.from >= seg.to) continue;
    const buf = Buffer.from(seg.bytes.buffer, seg.bytes.byteOffset, seg.bytes.byteLength);
    const encoding = seg.ascii ? 'latin1' : 'utf8';
    const ends = seg.ends;
    const tags = seg.tags;
    let start = seg.from === 0 ? 0 : (ends[seg.from - 1] as number);
    if (needle !== null) {
      const stop = ends[seg.to - 1] as number;
      let i = seg.from;
      for (;;) {
        const hit = buf.indexOf(needle, start);
        if (hit === -1 || hit >= stop) break;
        while ((ends[i] as number) <= hit) i++;
        const lineStart = i === 0 ? 0 : (ends[i - 1] as number);
        const end = ends[i] as number;
        if (
          ((1 << (tags[i] as number)) & job.mask) !== 0 &&
          re.test(buf.toString(encoding, lineStart, end))
        ) {
          if (total >= job.offset && total < collectEnd) hits.push(s, i);
          total++;
        }
        start = end;
        i++;
      }
      continue;
    }
    for (let i = seg.from; i < seg.to; i++) {
      const end = ends[i] as number;
      if (((1 << (tags[i] as number)) & job.mask) !== 0 && re.test(buf.toString(encoding, start, end))) {
        if (total >= job.offset && total < collectEnd) hits.push(s, i);
        total++;
      }
      start = end;
    }
  }
  return { total, hits: Uint32Array.from(hits) };
}
