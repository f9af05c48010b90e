import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** Where Electron is, or why it cannot be used. */
export type ElectronLookup =
  { readonly ok: true; readonly binary: string } | { readonly ok: false; readonly reason: string };

/**
 * Finds the Electron binary the `electron` package installed. From plain Node,
 * `require('electron')` returns the binary's path (it throws when the download never happened).
 */
export function findElectron(appRoot: string): ElectronLookup {
  let binary: unknown;
  try {
    binary = createRequire(join(appRoot, 'package.json'))('electron');
  } catch (e) {
    return { ok: false, reason: `Electron is not installed (${firstLine(e)})` };
  }
  if (typeof binary !== 'string')
    return { ok: false, reason: 'Electron is not installed (the electron package gave no path)' };
  if (!existsSync(binary)) return { ok: false, reason: `Electron is not installed (${binary} is missing)` };
  return { ok: true, binary };
}

/** A failed download is not retried for this long (ms), so every start does not wait on it. */
const RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * Runs `node node_modules/electron/install.js` once (it downloads the binary), unless a
 * download failed within the last day (remembered in `<dataDir>/electron-install.json`).
 * @returns the lookup after the attempt; its reason carries the download's error
 */
export function tryInstallElectron(appRoot: string, dataDir: string, timeoutMs = 60_000): ElectronLookup {
  const script = join(appRoot, 'node_modules', 'electron', 'install.js');
  if (!existsSync(script))
    return { ok: false, reason: 'Electron is not installed (the electron package is missing)' };
  const marker = join(dataDir, 'electron-install.json');
  const earlier = readMarker(marker);
  if (earlier !== null && Date.now() - earlier.at < RETRY_AFTER_MS) {
    return { ok: false, reason: `Electron is not installed (its download failed: ${earlier.error})` };
  }
  const run = spawnSync(process.execPath, [script], {
    cwd: appRoot,
    encoding: 'utf8',
    timeout: timeoutMs,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const found = findElectron(appRoot);
  if (found.ok) return found;
  const error =
    run.error !== undefined
      ? run.error.message
      : (
          run.stderr.split('\n').find((l) => l.trim().length > 0 && !l.trimStart().startsWith('at ')) ??
          `exit code ${String(run.status)}`
        ).trim();
  try {
    writeFileSync(marker, JSON.stringify({ at: Date.now(), error }));
  } catch {
    // Not being able to remember the failure only costs a retry next time.
  }
  return { ok: false, reason: `Electron is not installed (its download failed: ${error})` };
}

function readMarker(path: string): { at: number; error: string } | null {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as { at?: unknown; error?: unknown };
    return typeof v.at === 'number' && typeof v.error === 'string' ? { at: v.at, error: v.error } : null;
  } catch {
    return null;
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}
