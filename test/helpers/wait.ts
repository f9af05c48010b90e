/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `probe` every `intervalMs` ms until it returns something other than `undefined`, and
 * returns that value.
 * @throws Error naming `what` (and the last probe error, if any) after `timeoutMs` ms
 */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let lastError: string | null = null;
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err instanceof Error ? err.message : JSON.stringify(err);
    }
    if (Date.now() >= deadline) {
      const cause = lastError === null ? '' : ` (last error: ${lastError})`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${opts.what ?? 'condition'}${cause}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}
