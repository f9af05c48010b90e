/**
 * Directories and files only their owner may touch: a server's state dir (its secret key, its
 * allow list, its dedupe journal with task text) and the console's data dir. Another local
 * user who can write there, or who planted a symlink, could admit their own key or read the
 * secret, so such paths are refused rather than used. POSIX only: on Windows the profile
 * directories are private by their ACLs and these checks are skipped.
 */
import { chmodSync, lstatSync, mkdirSync, type Stats } from 'node:fs';

/** A path another user could tamper with; the message names it and what to do. */
export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const POSIX = process.platform !== 'win32';

function ownerOk(stats: Stats): boolean {
  return !POSIX || typeof process.getuid !== 'function' || stats.uid === process.getuid();
}

/**
 * Creates `dir` (0700) or makes an existing one 0700, after checking that it is a real
 * directory (not a symlink) owned by this user.
 * @throws UnsafePathError when `dir` is a symlink, not a directory, or owned by someone else
 */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (!POSIX) return;
  const stats = lstatSync(dir);
  if (stats.isSymbolicLink() || !stats.isDirectory()) {
    throw new UnsafePathError(
      dir,
      `${dir} is not a plain directory (a symlink?); use a directory of your own`,
    );
  }
  if (!ownerOk(stats)) {
    throw new UnsafePathError(
      dir,
      `${dir} belongs to another user (uid ${stats.uid}); use a directory of your own`,
    );
  }
  // Ours: tighten it, since a group- or world-writable dir would let others swap our files.
  if ((stats.mode & 0o077) !== 0) chmodSync(dir, 0o700);
}

/**
 * Checks a file before it is trusted: a regular file (not a symlink) owned by this user that
 * nobody else can write (and, for a `secret`, read).
 * @returns false when it does not exist
 * @throws UnsafePathError naming the file and the fix
 */
export function checkPrivateFile(path: string, secret: boolean): boolean {
  let stats: Stats;
  try {
    stats = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (!POSIX) return true;
  if (stats.isSymbolicLink() || !stats.isFile()) {
    throw new UnsafePathError(path, `${path} is not a regular file (a symlink?); remove it`);
  }
  if (!ownerOk(stats)) {
    throw new UnsafePathError(path, `${path} belongs to another user (uid ${stats.uid}); remove it`);
  }
  const mode = stats.mode & 0o777;
  const mask = secret ? 0o077 : 0o022;
  if ((mode & mask) !== 0) {
    throw new UnsafePathError(
      path,
      `${path} can be ${secret ? 'read' : 'changed'} by other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 '${path}'`,
    );
  }
  return true;
}
