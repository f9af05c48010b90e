import { afterEach } from 'vitest';

/**
 * A list a test pushes its teardown steps onto (close a client, stop a server, remove a
 * folder); after each test they run newest first, so what was made last goes first, and the
 * list is empty again for the next test. A step that throws fails that test's teardown.
 */
export function useCleanups(): (() => unknown)[] {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}
