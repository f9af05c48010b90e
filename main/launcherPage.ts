import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** File name of the launcher page in the data directory. */
export const LAUNCHER_FILE = 'open-console.html';

/**
 * Writes a page that sends the browser on to `url`, readable by this user only (0600, in the
 * 0700 data directory), and returns its path.
 *
 * Why: the browser host's URL carries its access token, and a program's arguments are visible
 * to every local user (`ps`). Handing the desktop opener this file's path instead keeps the
 * token out of `xdg-open`'s and the browser's arguments; only this user can read the file.
 * The page is replaced on every start (each start has a fresh token) and removed by
 * {@link removeLauncherPage} when the host stops.
 * @throws the file system's error when the file cannot be written (the caller then prints the
 *   URL without opening a browser)
 */
export function writeLauncherPage(dataDir: string, url: string): string {
  const path = join(dataDir, LAUNCHER_FILE);
  const href = escapeHtml(url);
  const html =
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">\n' +
    '<meta name="referrer" content="no-referrer">\n' +
    `<meta http-equiv="refresh" content="0;url=${href}">\n` +
    '<title>Descartes Console</title></head>\n' +
    `<body><p>Opening Descartes Console… <a href="${href}">Continue</a></p></body></html>\n`;
  // A fresh file (wx), so an older file's looser mode can never carry over.
  rmSync(path, { force: true });
  writeFileSync(path, html, { mode: 0o600, flag: 'wx' });
  return path;
}

/** Removes the launcher page, if any. Never throws. */
export function removeLauncherPage(dataDir: string): void {
  try {
    rmSync(join(dataDir, LAUNCHER_FILE), { force: true });
  } catch {
    // Best effort: it holds a token that died with the host.
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
