import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { createTempDir, type TempDir } from './tempDir';

/** The directory of {@link useTempDir}. */
export interface TestDir {
  /** Absolute path of the directory; throws when read outside a test or its hooks. */
  readonly path: string;
}

/**
 * A fresh temp directory, removed with everything inside when its scope ends: one for each
 * test of the enclosing `describe` (or file) with `'test'`, one shared by all of them with
 * `'file'`. Call it before registering hooks that still use the directory when a test ends:
 * vitest runs after-hooks in reverse order of registration, so theirs run before it goes.
 * @param prefix start of the directory's name under the OS temp dir
 * @param scope `'test'` (made in `beforeEach`, default) or `'file'` (made in `beforeAll`)
 */
export function useTempDir(prefix?: string, scope: 'test' | 'file' = 'test'): TestDir {
  let current: TempDir | null = null;
  const [before, after] = scope === 'test' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(async () => {
    current = await createTempDir(prefix);
  });
  after(async () => {
    await current?.remove();
    current = null;
  });
  return {
    get path(): string {
      if (current === null) throw new Error('useTempDir: read the path inside a test or its hooks');
      return current.path;
    },
  };
}
