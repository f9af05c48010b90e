/** What every fuzz run reports, whichever side it fuzzed (see ClientFuzzReport, ServerFuzzReport). */
export interface FuzzReport {
  readonly mode: 'curve' | 'insecure';
  readonly seed: number;
  /** Fuzzed frames sent. */
  readonly frames: number;
  readonly bytesSent: number;
  readonly elapsedMs: number;
  /** Frames sent per kind. */
  readonly kinds: Record<string, number>;
  /** Highest RSS of the process the run watched (see the side's report), bytes. */
  readonly maxRssBytes: number;
  readonly violations: string[];
}
