import { describe, expect, it } from 'vitest';
import { embeddedExitReason } from '../../../main/embeddedServerKeeper';

const STDERR = 'descartes-server: listening\ndescartes-server: cannot open state dir: EACCES\n';

describe('embeddedExitReason', () => {
  it('names the signal of a killed server, without an unrelated earlier stderr line', () => {
    expect(embeddedExitReason({ code: null, signal: 'SIGKILL', stderr: STDERR })).toBe(
      'the embedded server exited (signal SIGKILL)',
    );
    // Electron reports a SIGKILL as exit code 9.
    expect(embeddedExitReason({ code: 9, signal: null, stderr: STDERR })).toBe(
      'the embedded server exited (exit code 9)',
    );
  });

  it('adds the last stderr line when the server ended by itself', () => {
    expect(embeddedExitReason({ code: 3, signal: null, stderr: STDERR })).toBe(
      'the embedded server exited (exit code 3): descartes-server: cannot open state dir: EACCES',
    );
    expect(embeddedExitReason({ code: null, signal: null, error: 'FatalError at x.js:1', stderr: '' })).toBe(
      'the embedded server exited (FatalError at x.js:1)',
    );
  });
});
