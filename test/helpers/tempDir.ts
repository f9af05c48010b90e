import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir; `remove()` deletes it with everything inside. */
export interface TempDir {
  readonly path: string;
  /** Deletes the directory recursively. Never throws when it is already gone. */
  remove(): Promise<void>;
}

/**
 * Makes a fresh, empty temp directory named `<prefix>XXXXXX`.
 * @param keep when true, `remove()` leaves it in place (to inspect logs of a failing test)
 */
export async function createTempDir(prefix = 'descartes-test-', keep = false): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return {
    path,
    remove: async () => {
      if (!keep) await rm(path, { recursive: true, force: true });
    },
  };
}
