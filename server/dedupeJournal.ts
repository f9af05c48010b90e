import {
  closeSync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
  mkdirSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ReplyMessage } from '../shared/protocol';
import type { RequestType } from './replyCache';

/** A state directory that cannot be used (locked by another server, unreadable…). */
export class StateDirError extends Error {
  override readonly name = 'StateDirError';
}

/** One request remembered by the journal. `reply` is absent when the server stopped mid-way. */
export interface JournalEntry {
  readonly requestId: string;
  readonly type: RequestType;
  /** When it began, ms since the epoch. */
  readonly at: number;
  readonly reply: ReplyMessage | null;
}

export interface JournalCodec {
  encode(reply: ReplyMessage): Uint8Array;
  /** @throws when the bytes are not a message */
  decode(bytes: Uint8Array): unknown;
}

export interface DedupeJournalOptions {
  readonly codec: JournalCodec;
  readonly ttlMs?: number;
  readonly minEntries?: number;
  /** Rewrite the file once this many records were appended since the last rewrite. */
  readonly compactAfter?: number;
  readonly now?: () => number;
}

type JournalRecord =
  { k: 'b'; id: string; t: RequestType; at: number } | { k: 'r'; id: string; reply: string };

interface Held {
  type: RequestType;
  at: number;
  reply: string | null;
}

export const JOURNAL_FILE = 'dedupe-journal.jsonl';
export const LOCK_FILE = 'server.lock';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Durable dedupe record in a state directory: a `begin` record is appended and fsync'd before
 * a mutating request runs and a `reply` record (the encoded reply, base64) after, so a
 * restarted server still answers resends from it, and a request that began but never got a
 * reply is reported as "outcome unknown" instead of running twice.
 *
 * The directory is locked by `server.lock` (holding our pid), created exclusively; a lock whose
 * pid is no longer alive is taken over. The file is rewritten (compacted) at open and after
 * `compactAfter` appends, keeping the same entries as the reply cache (10 min / last 10 000).
 */
export class DedupeJournal {
  private fd: number;
  private readonly held = new Map<string, Held>();
  private appended = 0;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly options: Required<Omit<DedupeJournalOptions, 'codec'>> & { codec: JournalCodec },
    private readonly lockPath: string,
  ) {
    this.fd = -1;
  }

  /**
   * Locks `dir` (creating it), loads and compacts the journal.
   * @throws StateDirError when another live server holds the lock or the directory is unusable
   */
  static open(dir: string, options: DedupeJournalOptions): DedupeJournal {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StateDirError(
        `cannot create state dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      );
    }
    const lockPath = join(dir, LOCK_FILE);
    acquireLock(lockPath, dir);
    const journal = new DedupeJournal(
      dir,
      {
        codec: options.codec,
        ttlMs: options.ttlMs ?? 10 * 60 * 1000,
        minEntries: options.minEntries ?? 10_000,
        compactAfter: options.compactAfter ?? 50_000,
        now: options.now ?? Date.now,
      },
      lockPath,
    );
    try {
      journal.load();
      journal.compact();
    } catch (error) {
      journal.close();
      throw error instanceof StateDirError
        ? error
        : new StateDirError(`cannot use journal in ${dir}: ${(error as Error).message}`);
    }
    return journal;
  }

  private get path(): string {
    return join(this.dir, JOURNAL_FILE);
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    for (const line of text.split('\n')) {
      if (line === '') continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        continue; // a torn last line from a crash mid-append
      }
      if (record.k === 'b') this.held.set(record.id, { type: record.t, at: record.at, reply: null });
      else {
        const entry = this.held.get(record.id);
        if (entry) entry.reply = record.reply;
      }
    }
    this.prune();
  }

  /** Entries loaded at open (oldest first), with their decoded replies. Undecodable replies count as unknown. */
  entries(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (const [requestId, h] of this.held) {
      let reply: ReplyMessage | null = null;
      if (h.reply !== null) {
        try {
          reply = this.options.codec.decode(Buffer.from(h.reply, 'base64')) as ReplyMessage;
        } catch {
          reply = null;
        }
      }
      out.push({ requestId, type: h.type, at: h.at, reply });
    }
    return out;
  }

  /** Appends and fsyncs a `begin` record. @throws when the write fails (do not run the request then) */
  begin(requestId: string, type: RequestType): void {
    const at = this.options.now();
    this.append({ k: 'b', id: requestId, t: type, at });
    this.held.delete(requestId);
    this.held.set(requestId, { type, at, reply: null });
  }

  /** Appends and fsyncs the reply of a request that began. */
  reply(requestId: string, reply: ReplyMessage): void {
    const encoded = Buffer.from(this.options.codec.encode(reply)).toString('base64');
    this.append({ k: 'r', id: requestId, reply: encoded });
    const entry = this.held.get(requestId);
    if (entry) entry.reply = encoded;
    if (this.appended >= this.options.compactAfter) {
      this.prune();
      this.compact();
    }
  }

  private append(record: JournalRecord): void {
    if (this.closed) throw new StateDirError('the dedupe journal is closed');
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.fd);
    this.appended++;
  }

  private prune(): void {
    const oldestAllowed = this.options.now() - this.options.ttlMs;
    for (const [id, h] of this.held) {
      if (this.held.size > this.options.minEntries && h.at < oldestAllowed) this.held.delete(id);
      else break;
    }
  }

  /** Rewrites the file with the held entries (write a temp file, fsync, rename). */
  private compact(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    const tmp = `${this.path}.tmp`;
    // Replies hold task text and output: readable by this user only.
    const fd = openSync(tmp, 'w', 0o600);
    try {
      const lines: string[] = [];
      for (const [id, h] of this.held) {
        lines.push(JSON.stringify({ k: 'b', id, t: h.type, at: h.at } satisfies JournalRecord));
        if (h.reply !== null)
          lines.push(JSON.stringify({ k: 'r', id, reply: h.reply } satisfies JournalRecord));
      }
      if (lines.length > 0) writeSync(fd, `${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    this.fd = openSync(this.path, 'a', 0o600);
    this.appended = 0;
  }

  /** Closes the file and releases the lock. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    try {
      unlinkSync(this.lockPath);
    } catch {
      // already gone
    }
  }
}

function acquireLock(lockPath: string, dir: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      fsyncSync(fd);
      closeSync(fd);
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateDirError(
          `cannot lock state dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      }
    }
    let pid = NaN;
    try {
      pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    } catch {
      // vanished or unreadable: retry
    }
    if (Number.isInteger(pid) && pid > 0 && isAlive(pid)) {
      throw new StateDirError(`state dir ${dir} is in use by another server (pid ${pid}, lock ${lockPath})`);
    }
    try {
      unlinkSync(lockPath); // stale: its server is gone
    } catch {
      // someone else removed it first
    }
  }
  throw new StateDirError(`cannot lock state dir ${dir}: another server took the lock at the same time`);
}
