import { homedir } from 'node:os';
import { join } from 'node:path';

/** Folder name of the console's data under the platform's app-data directory. */
export const APP_DIR_NAME = 'descartes-console';

/**
 * The platform's app-data directory for the console (the same place Electron's
 * `app.getPath('userData')` points to): `%APPDATA%\descartes-console` on Windows,
 * `~/Library/Application Support/descartes-console` on macOS, `$XDG_CONFIG_HOME/descartes-console`
 * (default `~/.config`) elsewhere. `DESCARTES_DATA_DIR` overrides it (tests, portable installs).
 */
export function defaultDataDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): string {
  const override = env.DESCARTES_DATA_DIR;
  if (override !== undefined && override !== '') return override;
  if (platform === 'win32') return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), APP_DIR_NAME);
  if (platform === 'darwin') return join(homedir(), 'Library', 'Application Support', APP_DIR_NAME);
  return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), APP_DIR_NAME);
}
