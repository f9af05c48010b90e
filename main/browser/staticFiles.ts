import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { join, normalize, relative, isAbsolute } from 'node:path';
import { contentTypeOf } from '../../shared/node/contentType';

/**
 * The file under `root` that a URL path names, or null when it would leave `root` (`..`,
 * encoded separators, NUL) or does not decode. `/` is `index.html`.
 */
export function resolveStaticPath(root: string, urlPath: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const rel = normalize(decoded === '/' || decoded === '' ? 'index.html' : decoded.replace(/^\/+/, ''));
  const full = join(root, rel);
  const back = relative(root, full);
  if (back.startsWith('..') || isAbsolute(back)) return null;
  return full;
}

/**
 * Streams one file of `root` with its content type, or answers 404. Headers already set on
 * `res` (security headers) are kept.
 */
export async function serveStatic(
  root: string,
  urlPath: string,
  res: ServerResponse,
  method: string,
): Promise<void> {
  const file = resolveStaticPath(root, urlPath);
  const info = file === null ? null : await stat(file).catch(() => null);
  if (file === null || info === null || !info.isFile()) {
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not found.\n');
    return;
  }
  res.writeHead(200, {
    'Content-Type': contentTypeOf(file),
    'Content-Length': String(info.size),
    'Cache-Control': 'no-cache',
  });
  if (method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
