import { spawn } from 'node:child_process';

/**
 * Asks the desktop to open `url` (a URL or a file's path) in the default browser (`xdg-open`,
 * `open`, `start`). Best effort: never throws; a missing opener is ignored (the URL is printed
 * anyway). Every local user can read the arguments: never pass a secret (see launcherPage.ts).
 */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): void {
  const [command, args] =
    platform === 'darwin'
      ? ['open', [url]]
      : platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    child.on('error', () => {
      // No opener on this machine: the printed URL is the way in.
    });
    child.unref();
  } catch {
    // Same as above.
  }
}
