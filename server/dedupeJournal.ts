import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from 'node:fs';
import { writeFreshTempFile } from '../shared/node/freshTempFile';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { acquirePidLock, LockHeldError, type PidLock } from '../shared/node/pidLock';
import type { ReplyMessage } from '../shared/protocol';
import { DEDUPE_RETENTION, evictionVerdict } from './dedupeRetention';
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
  /** Retention (see `dedupeRetention.ts`); defaults to DEDUPE_RETENTION. */
  readonly ttlMs?: number;
  readonly minEntries?: number;
  readonly maxEntries?: number;
  /** Rewrite the file once this many records were appended since the last rewrite. */
  readonly compactAfter?: number;
  readonly now?: () => number;
}

type JournalRecord =
  | { k: 'b'; id: string; t: RequestType; at: number }
  | { k: 'r'; id: string; reply: string }
  /** The dedupe epoch from here on (the first line of a compacted file). */
  | { k: 'e'; epoch: string };

interface Held {
  type: RequestType;
  at: number;
  reply: string | null;
}

export const JOURNAL_FILE = 'dedupe-journal.jsonl';
export const LOCK_FILE = 'server.lock';

/**
 * Durable dedupe record in a state directory: a `begin` record is appended and fsync'd before
 * a mutating request runs and a `reply` record (the encoded reply, base64) after, so a
 * restarted server still answers resends from it, and a request that began but never got a
 * reply is reported as "outcome unknown" instead of running twice.
 *
 * **Dedupe epoch.** The journal carries an epoch id that stays the same as long as the cache
 * is whole. A new epoch begins when the journal was missing, unreadable (it is then renamed
 * aside), damaged before its last line, or when the retention cap forced out an entry still
 * inside its retention time. Consoles compare it across contacts: a changed epoch means a
 * resend could run twice, so they stop resending what was in flight
 * (docs/PROTOCOL.md §4.5, "Dedupe epoch").
 *
 * The directory is locked by `server.lock` (holding our pid, see shared/node/pidLock.ts); a
 * lock whose pid is no longer alive is taken over, by one server only when two start at once. The file is rewritten (compacted) at open and after
 * `compactAfter` appends, keeping the same entries as the reply cache (`dedupeRetention.ts`).
 */
export class DedupeJournal {
  private fd: number;
  private readonly held = new Map<string, Held>();
  private appended = 0;
  private closed = false;
  private currentEpoch = '';
  private why: string | null = null;
  private missing = false;

  private constructor(
    private readonly dir: string,
    private readonly options: Required<Omit<DedupeJournalOptions, 'codec'>> & { codec: JournalCodec },
    private readonly lock: PidLock,
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
    const lock = lockStateDir(dir);
    const journal = new DedupeJournal(
      dir,
      {
        codec: options.codec,
        ttlMs: options.ttlMs ?? DEDUPE_RETENTION.ttlMs,
        minEntries: options.minEntries ?? DEDUPE_RETENTION.minEntries,
        maxEntries: Math.max(
          options.maxEntries ?? DEDUPE_RETENTION.maxEntries,
          options.minEntries ?? DEDUPE_RETENTION.minEntries,
        ),
        compactAfter: options.compactAfter ?? 50_000,
        now: options.now ?? Date.now,
      },
      lock,
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

  /** The current dedupe epoch: changes whenever the cache was lost (see the class comment). */
  get epoch(): string {
    return this.currentEpoch;
  }

  /**
   * Why the epoch changed at open or since (e.g. "the journal was missing"), or null when the
   * cache came through whole. For the server's log.
   */
  get epochChange(): string | null {
    return this.why;
  }

  /** True when there was no journal file at open: a first start, as far as the server can tell. */
  get startedWithoutJournal(): boolean {
    return this.missing;
  }

  private newEpoch(why: string): void {
    this.currentEpoch = randomBytes(8).toString('hex');
    this.why = why;
  }

  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? String(error);
      if (code === 'ENOENT') {
        this.missing = true;
        this.newEpoch('no journal was found (first start, or the state dir was emptied)');
        return;
      }
      // Kept for a post-mortem, out of the way of the fresh journal that replaces it.
      const aside = `${this.path}.unreadable-${new Date(this.options.now()).toISOString().replace(/[:.]/g, '-')}`;
      try {
        renameSync(this.path, aside);
      } catch (renameError) {
        throw new StateDirError(
          `the dedupe journal ${this.path} cannot be read (${code}) nor moved aside ` +
            `(${(renameError as NodeJS.ErrnoException).code ?? String(renameError)}); fix its permissions or remove it`,
        );
      }
      this.newEpoch(`the journal could not be read (${code}); it was moved to ${aside}`);
      return;
    }
    const lines = text.split('\n');
    // The last line may be torn by a crash mid-append: that record never took effect (a begin
    // is fsync'd before its request runs). A bad line before it means records were lost.
    const lastFull = text.endsWith('\n') ? lines.length - 2 : lines.length - 1;
    let damaged = false;
    let epoch: string | null = null;
    for (const [i, line] of lines.entries()) {
      if (line === '') continue;
      let record: JournalRecord;
      try {
        record = JSON.parse(line) as JournalRecord;
      } catch {
        if (i < lastFull) damaged = true;
        continue;
      }
      if (record.k === 'e') epoch = record.epoch;
      else if (record.k === 'b') this.held.set(record.id, { type: record.t, at: record.at, reply: null });
      else {
        const entry = this.held.get(record.id);
        if (entry) entry.reply = record.reply;
      }
    }
    if (damaged) this.newEpoch('the journal was damaged: some records could not be read');
    else if (epoch === null)
      this.newEpoch('the journal recorded no dedupe epoch (written by an older server)');
    else this.currentEpoch = epoch;
    // Entries the cap forced out while running are still in the file until the next
    // compaction; dropping them again here loses nothing new (their epoch record follows them).
    this.prune(false);
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
    this.prune(true);
  }

  /** Appends and fsyncs the reply of a request that began. */
  reply(requestId: string, reply: ReplyMessage): void {
    const encoded = Buffer.from(this.options.codec.encode(reply)).toString('base64');
    this.append({ k: 'r', id: requestId, reply: encoded });
    const entry = this.held.get(requestId);
    if (entry) entry.reply = encoded;
    if (this.appended >= this.options.compactAfter) this.compact();
  }

  private append(record: JournalRecord): void {
    if (this.closed) throw new StateDirError('the dedupe journal is closed');
    writeSync(this.fd, `${JSON.stringify(record)}\n`);
    fsyncSync(this.fd);
    this.appended++;
  }

  /**
   * Drops entries past retention. While running (`running`), an entry the cap forces out while
   * still inside its retention time is a loss: a new epoch begins and is recorded at once.
   */
  private prune(running: boolean): void {
    const now = this.options.now();
    let capped = 0;
    for (const [id, h] of this.held) {
      const verdict = evictionVerdict(this.held.size, h.at, now, this.options);
      if (verdict === 'keep') break;
      if (verdict === 'capped') capped++;
      this.held.delete(id);
    }
    if (capped === 0 || !running) return;
    this.newEpoch(
      `${capped} replies younger than the retention time were dropped to stay under ${this.options.maxEntries} entries`,
    );
    this.append({ k: 'e', epoch: this.currentEpoch });
  }

  /** Rewrites the file with the held entries (write a temp file, fsync, rename). */
  private compact(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
    const lines: string[] = [JSON.stringify({ k: 'e', epoch: this.currentEpoch } satisfies JournalRecord)];
    for (const [id, h] of this.held) {
      lines.push(JSON.stringify({ k: 'b', id, t: h.type, at: h.at } satisfies JournalRecord));
      if (h.reply !== null)
        lines.push(JSON.stringify({ k: 'r', id, reply: h.reply } satisfies JournalRecord));
    }
    // Replies hold task text and output: the fresh file is readable by this user only.
    const tmp = writeFreshTempFile(this.path, `${lines.join('\n')}\n`);
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
    this.lock.release();
  }
}

/** Takes `server.lock` in `dir`, with the errors a server operator reads. */
function lockStateDir(dir: string): PidLock {
  const lockPath = join(dir, LOCK_FILE);
  try {
    return acquirePidLock(lockPath);
  } catch (error) {
    if (error instanceof LockHeldError && error.reason !== 'contended') {
      throw new StateDirError(
        `state dir ${dir} is in use by another server (pid ${error.ownerPid}, lock ${lockPath})`,
      );
    }
    if (error instanceof LockHeldError) {
      throw new StateDirError(
        `cannot lock state dir ${dir}: another server took the lock at the same time; try again in a moment`,
      );
    }
    throw new StateDirError(
      `cannot lock state dir ${dir}: ${(error as NodeJS.ErrnoException).code ?? String(error)}; check that this user may write there and the disk has room`,
    );
  }
}
