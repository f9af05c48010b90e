import { afterEach, beforeEach } from 'vitest';
import { createTempDir, type TempDir } from './tempDir';

/** The current test's directory, from {@link useTempDir}. */
export interface TestDir {
  /** Absolute path of the directory; throws when read outside a test or its hooks. */
  readonly path: string;
}

/**
 * A fresh temp directory for each test of the enclosing `describe` (or file): made in
 * `beforeEach`, removed with everything inside in `afterEach`. Call it before registering
 * hooks that still use the directory when a test ends: vitest runs after-hooks in reverse
 * order of registration, so theirs run before the directory goes.
 * @param prefix start of the directory's name under the OS temp dir
 */
export function useTempDir(prefix?: string): TestDir {
  let current: TempDir | null = null;
  beforeEach(async () => {
    current = await createTempDir(prefix);
  });
  afterEach(async () => {
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
