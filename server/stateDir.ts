import { homedir } from 'node:os';
import { join } from 'node:path';

/** Folder name of the server's state under the platform's state/app-data directory. */
const STATE_DIR_NAME = 'descartes-server';

/**
 * Where a server keeps its key pair, allow list and dedupe journal when `--state-dir` is not
 * given, so they survive restarts: `$XDG_STATE_HOME/descartes-server` or
 * `~/.local/state/descartes-server` (Linux and other Unixes), `~/Library/Application
 * Support/descartes-server` (macOS), `%LOCALAPPDATA%\descartes-server` (Windows).
 * @param env the environment to read (default `process.env`)
 * @param platform default `process.platform`
 */
export function defaultStateDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'win32') {
    return join(env.LOCALAPPDATA ?? join(home, 'AppData', 'Local'), STATE_DIR_NAME);
  }
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', STATE_DIR_NAME);
  const xdg = env.XDG_STATE_HOME;
  // The XDG spec ignores relative paths.
  return join(xdg?.startsWith('/') ? xdg : join(home, '.local', 'state'), STATE_DIR_NAME);
}

/** File name of the server's key pair in its state dir. */
export const SERVER_KEY_FILE = 'server.key';

/** The server key pair's path in a state dir. */
export function serverKeyPath(stateDir: string): string {
  return join(stateDir, SERVER_KEY_FILE);
}
