import type { App, BrowserWindow } from 'electron';

/** How a bounded shutdown step ended. */
export type ShutdownOutcome =
  { kind: 'done' } | { kind: 'timeout'; afterMs: number } | { kind: 'failed'; error: unknown };

/**
 * Runs `step` but waits at most `timeoutMs` (milliseconds) for it. Never rejects: a step that
 * throws reports `failed`, one that is still running at the deadline reports `timeout` (it
 * keeps running; the caller is about to exit the process anyway).
 */
export async function runWithTimeout(step: () => Promise<void>, timeoutMs: number): Promise<ShutdownOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<ShutdownOutcome>((resolve) => {
    timer = setTimeout(() => {
      resolve({ kind: 'timeout', afterMs: timeoutMs });
    }, timeoutMs);
  });
  const work = (async (): Promise<ShutdownOutcome> => {
    try {
      await step();
      return { kind: 'done' };
    } catch (error) {
      return { kind: 'failed', error };
    }
  })();
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Takes the app's single-instance lock. Without it (another console runs with the same data)
 * the app quits at once and this returns false. With it, a second launch focuses the window
 * `currentWindow()` returns (restoring it if minimised) and this returns true.
 */
export function claimSingleInstance(app: App, currentWindow: () => BrowserWindow | null): boolean {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return false;
  }
  app.on('second-instance', () => {
    const win = currentWindow();
    if (win === null || win.isDestroyed()) return;
    if (win.isMinimized()) win.restore();
    win.show();
    win.focus();
  });
  return true;
}

export interface QuitHandlerOptions {
  /** Flushes the queue, closes the sockets, stops the embedded server. */
  readonly shutdown: () => Promise<void>;
  /** The longest the app waits for `shutdown`, ms (default 3000). */
  readonly timeoutMs?: number;
  /** Told how the shutdown ended (for the log). */
  readonly onOutcome?: (outcome: ShutdownOutcome) => void;
}

/**
 * On the first `before-quit`, holds the quit, runs `shutdown` for at most `timeoutMs`, then
 * exits with `app.exit(0)` whatever happened. Later `before-quit`s (a second Cmd+Q while
 * flushing) are held too, so the flush is not cut short by the user.
 */
export function installQuitHandler(app: App, options: QuitHandlerOptions): void {
  const timeoutMs = options.timeoutMs ?? 3000;
  let shuttingDown = false;
  app.on('before-quit', (event) => {
    event.preventDefault();
    if (shuttingDown) return;
    shuttingDown = true;
    void runWithTimeout(options.shutdown, timeoutMs).then((outcome) => {
      options.onOutcome?.(outcome);
      app.exit(0);
    });
  });
}
