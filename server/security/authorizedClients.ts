import { readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CurveKeyError, parseCurveKey } from '../../shared/domain/curveKey';
import { writeFreshTempFile } from '../../shared/node/freshTempFile';
import { checkPrivateFile, ensurePrivateDir, UnsafePathError } from '../../shared/node/privatePath';

/** File name of the allow list in a server's state dir. */
export const AUTHORIZED_CLIENTS_FILE = 'authorized_clients';

/** One admitted console: its public key (Z85) and the name the operator gave it. */
export interface AuthorizedClient {
  readonly publicKey: string;
  readonly name: string;
}

/** A malformed allow list, key or name; the message names the file line or the value. */
export class AuthorizedClientsError extends Error {
  override readonly name = 'AuthorizedClientsError';
}

/** Names are one word so that a line reads `<key> <name>` and `revoke NAME` is unambiguous. */
const NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/** The allow list's path in a state dir. */
export function authorizedClientsPath(stateDir: string): string {
  return join(stateDir, AUTHORIZED_CLIENTS_FILE);
}

/**
 * Parses an allow list: one client per line, `<40-character Z85 public key> [name] [# comment]`,
 * blank lines and lines starting with `#` ignored (like SSH's authorized_keys). A `#` inside
 * the key is part of it: Z85 keys may contain `#`.
 * @param source how to name the text in errors (its path)
 * @throws AuthorizedClientsError naming the first bad line
 */
export function parseAuthorizedClients(text: string, source: string): AuthorizedClient[] {
  const clients: AuthorizedClient[] = [];
  for (const [i, line] of text.split(/\r?\n/).entries()) {
    const client = parseLine(line, source, i + 1);
    if (client !== null) clients.push(client);
  }
  return clients;
}

/**
 * One line of an allow list: a client, or null for a blank or comment line.
 * @throws AuthorizedClientsError naming `source` and `lineNumber`
 */
function parseLine(raw: string, source: string, lineNumber: number): AuthorizedClient | null {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return null;
  const [keyText = '', ...words] = line.split(/\s+/);
  // After the key, a word starting with `#` begins a comment (names never contain `#`).
  const comment = words.findIndex((w) => w.startsWith('#'));
  const rest = comment < 0 ? words : words.slice(0, comment);
  const where = `${source} line ${lineNumber}`;
  let publicKey: string;
  try {
    publicKey = parseCurveKey(keyText, 'the key');
  } catch (e) {
    throw new AuthorizedClientsError(`${where}: ${e instanceof CurveKeyError ? e.message : String(e)}`);
  }
  const name = rest.join(' ');
  if (name !== '' && !NAME.test(name)) {
    throw new AuthorizedClientsError(`${where}: the name "${name}" must be 1-64 of A-Z a-z 0-9 . _ @ -`);
  }
  return { publicKey, name: name === '' ? '-' : name };
}

/**
 * Reads the allow list of a state dir; an absent file is an empty list.
 * @throws AuthorizedClientsError when the file is malformed or unreadable
 */
export function readAuthorizedClients(stateDir: string): AuthorizedClient[] {
  const path = authorizedClientsPath(stateDir);
  return parseAuthorizedClients(readText(path), path);
}

/**
 * Adds a client to the allow list (atomically: temp file, fsync, rename). Adding a key that is
 * already there changes nothing and says so.
 * @throws AuthorizedClientsError for a malformed key or name, a name another key has, or a
 *   malformed existing file (which is left as it is)
 */
export function allowClient(
  stateDir: string,
  keyText: string,
  name: string,
): { client: AuthorizedClient; added: boolean } {
  let publicKey: string;
  try {
    publicKey = parseCurveKey(keyText, 'the client key');
  } catch (e) {
    throw new AuthorizedClientsError(e instanceof CurveKeyError ? e.message : String(e));
  }
  if (!NAME.test(name))
    throw new AuthorizedClientsError(`the name "${name}" must be 1-64 of A-Z a-z 0-9 . _ @ -`);
  const path = authorizedClientsPath(stateDir);
  const text = readText(path);
  const clients = parseAuthorizedClients(text, path);
  const same = clients.find((c) => c.publicKey === publicKey);
  if (same) return { client: same, added: false };
  if (clients.some((c) => c.name === name)) {
    throw new AuthorizedClientsError(`another key is already allowed as "${name}"; choose another --name`);
  }
  const header =
    text === '' ? '# Consoles allowed to use this agent server: <public key> <name> per line.\n' : '';
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  writeAtomically(path, `${header}${body}${publicKey} ${name}\n`);
  return { client: { publicKey, name }, added: true };
}

/**
 * Removes every line whose key or name is `keyOrName`, keeping comments and other lines.
 * @returns the clients removed (empty when none matched)
 * @throws AuthorizedClientsError when the file is malformed (it is left as it is)
 */
export function revokeClient(stateDir: string, keyOrName: string): AuthorizedClient[] {
  const path = authorizedClientsPath(stateDir);
  const wanted = keyOrName.trim();
  const removed: AuthorizedClient[] = [];
  const kept: string[] = [];
  // Every line is parsed before anything is written: a malformed file stays as it is.
  for (const [i, line] of readText(path).split(/\r?\n/).entries()) {
    const client = parseLine(line, path, i + 1);
    if (client !== null && (client.publicKey === wanted || client.name === wanted)) removed.push(client);
    else kept.push(line);
  }
  if (removed.length > 0) writeAtomically(path, kept.join('\n'));
  return removed;
}

/**
 * The file's text ('' when absent). Only a regular file of ours that others cannot write is
 * trusted: whoever can change the list can admit their own key.
 */
function readText(path: string): string {
  try {
    if (!checkPrivateFile(path, false)) return '';
  } catch (e) {
    if (e instanceof UnsafePathError) throw new AuthorizedClientsError(e.message);
    throw new AuthorizedClientsError(
      `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
    );
  }
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return '';
    throw new AuthorizedClientsError(`cannot read ${path}: ${code ?? String(e)}`);
  }
}

function writeAtomically(path: string, text: string): void {
  try {
    ensurePrivateDir(dirname(path));
  } catch (e) {
    if (e instanceof UnsafePathError) throw new AuthorizedClientsError(e.message);
    throw e;
  }
  renameSync(writeFreshTempFile(path, text), path);
}

/** A change of the live allow list. */
export interface AllowListChange {
  /** Keys admitted now. */
  readonly clients: number;
  /** Keys admitted before and not any more: their open connections must go. */
  readonly removed: number;
  /** Why the file cannot be read (everyone is refused until it is fixed), or null. */
  readonly error: string | null;
}

/** What identifies one version of the file, cheaply (a rename gives a new inode). */
function fileVersion(path: string): string {
  try {
    const s = statSync(path, { bigint: true });
    return `${s.ino}:${s.size}:${s.mtimeNs}`;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'error';
  }
}

/**
 * The live allow list of a running server: loaded at start, then re-read whenever the file
 * changes (checked every `pollMs`, default 500 ms, so `allow`/`revoke` or an edit take effect
 * within a second without a restart). Polling rather than fs.watch: it also sees a file
 * replaced by rename and behaves the same on every platform.
 *
 * A file that becomes malformed admits nobody until it is fixed (fail closed): we cannot know
 * what the operator meant, and keeping the old list could keep a revoked key in.
 */
export class AuthorizedClientsWatcher {
  private keys: ReadonlySet<string>;
  private version: string;
  private readonly timer: NodeJS.Timeout;
  private problem: string | null = null;

  /**
   * @throws AuthorizedClientsError when the file is malformed at start (the server must not start)
   */
  constructor(
    private readonly stateDir: string,
    private readonly onChange: (event: AllowListChange) => void,
    pollMs = 500,
  ) {
    const path = authorizedClientsPath(stateDir);
    this.version = fileVersion(path);
    this.keys = new Set(readAuthorizedClients(stateDir).map((c) => c.publicKey));
    this.timer = setInterval(() => {
      this.poll();
    }, pollMs);
    this.timer.unref();
  }

  /** Whether a client key (Z85) is admitted right now. */
  allows(publicKey: string): boolean {
    return this.keys.has(publicKey);
  }

  /** How many keys are admitted. */
  get size(): number {
    return this.keys.size;
  }

  /** Re-reads the file if it changed since the last look. */
  poll(): void {
    const path = authorizedClientsPath(this.stateDir);
    const version = fileVersion(path);
    if (version === this.version) return;
    this.version = version;
    const before = this.keys;
    let error: string | null = null;
    try {
      this.keys = new Set(readAuthorizedClients(this.stateDir).map((c) => c.publicKey));
    } catch (e) {
      this.keys = new Set();
      error = e instanceof Error ? e.message : String(e);
    }
    let removed = 0;
    for (const key of before) if (!this.keys.has(key)) removed++;
    if (error === null || error !== this.problem || removed > 0) {
      this.onChange({ clients: this.keys.size, removed, error });
    }
    this.problem = error;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
