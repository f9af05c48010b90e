import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Writes `text` to a new private (0600) file at a fresh random name next to `path`, fsyncs it
 * and returns that name; the caller renames or links it into place, so nobody ever reads it
 * half written. The name is opened exclusively: a file or symlink planted there is never
 * written through.
 *
 * @throws the file system's error (EACCES, ENOSPC, …); nothing is left behind then
 */
export function writeFreshTempFile(path: string, text: string): string {
  const tmp = `${path}.${randomBytes(8).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(tmp);
    throw error;
  }
  closeSync(fd);
  return tmp;
}
