/**
 * localStorage that never throws: storage can be disabled (private mode, file:// policies) or
 * full, and a preference or the feed must then simply not persist rather than break the view.
 */

/** The stored text under `key`, or null when absent or storage is unavailable. */
export function readStorage(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

/** Stores `value` under `key`; returns false when storage refused it (disabled, quota full). */
export function writeStorage(key: string, value: string): boolean {
  try {
    localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

/** Removes `key` (no-op when storage is unavailable). */
export function removeStorage(key: string): void {
  try {
    localStorage.removeItem(key);
  } catch {
    // Nothing stored that could be read back.
  }
}
