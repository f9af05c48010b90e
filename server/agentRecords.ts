import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AgentEndReason } from '../shared/domain/agentDetails';
import type { AgentJournal, AgentProcess, RestoredFacts } from './agentProcess';
import { AGENT_RECORD_VERSION, parseAgentRecord } from './agentRecord';
import type { AgentRecord } from './agentRecord';
import type { LineStore } from './lineStore';
import { copyBytes } from './copyBytes';

/** Folder of the agent records in the state dir. */
export const AGENTS_DIR = 'agents';
/** Where unreadable records and output files are moved, for a post-mortem. */
export const ASIDE_DIR = 'agents-aside';
const RECORD_FILE = 'record.json';
const OUTPUT_FILE = /^out-(\d{12})\.log$/;
/** Output is written to disk at least this often, in ms (and at once when an agent ends). */
export const OUTPUT_FLUSH_MS = 100;
/** Bytes buffered per agent before they are handed to the file. */
const BUFFER_BYTES = 256 * 1024;
const TAG_BYTE = [0x6f, 0x65] as const; // 'o', 'e'
const NEWLINE = 0x0a;

/** How {@link AgentRecords.open} behaves. */
export interface AgentRecordsOptions {
  /** Most bytes of output files, all agents together (config `persist_output_bytes`); 0: none. */
  readonly outputBytes: number;
  /** Where "moved aside" and similar lines go. */
  readonly log: (line: string) => void;
  /** Clock (tests). */
  readonly now?: () => number;
}

/** An agent of an earlier run, as read back: its record (lost ones already marked) and files. */
export interface RestoredAgent {
  readonly record: AgentRecord;
  readonly facts: RestoredFacts;
  /** Appends its output, oldest first, to `store` (an empty store of the agent's limits). */
  readInto(store: LineStore): void;
}

interface OutputFile {
  readonly path: string;
  readonly stamp: number;
  readonly owner: AgentFiles;
  bytes: number;
  /** Lines per stream (0 stdout, 1 stderr) it holds. */
  readonly lines: [number, number];
}

/**
 * One agent's directory: its record and its output files `out-<stamp>.log`, each line being a
 * stream byte (`o` or `e`), the line's bytes, and `\n` (stored lines never contain `\n`). A
 * last line without its `\n` is a torn write (the server died) and is ignored.
 */
class AgentFiles implements AgentJournal {
  readonly files: OutputFile[] = [];
  private fd = -1;
  private buf: Buffer | null = null;
  private pos = 0;
  private readonly bufLines: [number, number] = [0, 0];
  /** Buffers to write: `bytes` (the part of `whole` used) and the lines per stream in it. */
  private readonly full: { whole: Buffer; bytes: Buffer; lines: [number, number] }[] = [];
  /**
   * A buffer of the usual size, written out, to take the next lines: memory never touched
   * before costs a page fault per 4 KiB, several times the copying of the lines into it.
   */
  private spare: Buffer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private forgotten = false;

  constructor(
    readonly dir: string,
    public record: AgentRecord,
    private readonly owner: AgentRecords,
  ) {}

  line(tag: 0 | 1, src: Uint8Array, start: number, end: number): void {
    if (this.forgotten || this.owner.outputBytes === 0) return;
    const n = end - start + 2;
    if (this.buf === null || this.pos + n > this.buf.length) {
      // A full buffer is written at once (not OUTPUT_FLUSH_MS later), so it can be used again.
      if (this.buf !== null && this.pos > 0) this.flush();
      const usual = this.usualBytes;
      const spare = this.spare;
      this.buf = n <= usual && spare?.length === usual ? spare : Buffer.allocUnsafe(Math.max(usual, n));
      this.spare = null;
      this.pos = 0;
    }
    const buf = this.buf;
    buf[this.pos] = TAG_BYTE[tag];
    copyBytes(src, start, end, buf, this.pos + 1);
    buf[this.pos + n - 1] = NEWLINE;
    this.pos += n;
    this.bufLines[tag]++;
    this.flushSoon();
  }

  lines(tag: 0 | 1, src: Uint8Array, start: number, end: number, count: number): void {
    if (this.forgotten || this.owner.outputBytes === 0) return;
    let at = start;
    let left = count;
    while (at < end) {
      const buf = this.buf;
      if (buf !== null && this.pos + (end - at) + left <= buf.length) {
        // The rest fits: one loop copies it, a tag byte before each line (src has the newlines).
        let p = this.pos;
        const mark = TAG_BYTE[tag];
        buf[p++] = mark;
        for (let i = at; i < end; i++) {
          const b = src[i] as number;
          buf[p++] = b;
          if (b === NEWLINE && i + 1 < end) buf[p++] = mark;
        }
        this.pos = p;
        this.bufLines[tag] += left;
        this.flushSoon();
        return;
      }
      // Line by line up to where the buffer is full, so buffers (and files) stay their size.
      const nl = src.indexOf(NEWLINE, at);
      this.line(tag, src, at, nl);
      at = nl + 1;
      left--;
    }
  }

  /** Writes the buffered output within {@link OUTPUT_FLUSH_MS} (one timer for all lines until then). */
  private flushSoon(): void {
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush();
    }, OUTPUT_FLUSH_MS);
  }

  facts(agent: AgentProcess): void {
    const d = agent.details();
    const info = agent.info();
    // Output first: a record that says "ended" comes with all of the output on disk.
    if (d.endedAtMs !== null) this.flush();
    this.record = {
      ...this.record,
      pid: d.pid,
      started_at_ms: d.startedAtMs,
      ended_at_ms: d.endedAtMs,
      status: info.status,
      exit_code: d.exitCode,
      signal: d.signal,
      end_reason: d.endReason,
    };
    this.writeRecord();
  }

  writeRecord(): void {
    if (this.forgotten) return;
    try {
      // Whole file, then rename: a reader sees the old record or the new one, never a torn
      // one. Not fsynced: this runs on the event loop, and a sync to a busy disk would stall
      // every agent's output; after a machine crash (not a server crash) an empty record is
      // possible, and is moved aside like any unreadable one.
      const path = join(this.dir, RECORD_FILE);
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify(this.record)}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    } catch (error) {
      this.owner.log(`cannot write agent record ${join(this.dir, RECORD_FILE)}: ${describe(error)}`);
    }
  }

  /** Bytes of a buffer that holds no unusually long line. */
  private get usualBytes(): number {
    return Math.min(BUFFER_BYTES, this.owner.fileBytes);
  }

  private queueBuffer(): void {
    if (this.buf === null) return;
    this.full.push({
      whole: this.buf,
      bytes: this.buf.subarray(0, this.pos),
      lines: [this.bufLines[0], this.bufLines[1]],
    });
    this.buf = null;
    this.pos = 0;
    this.bufLines[0] = 0;
    this.bufLines[1] = 0;
  }

  /** Writes what is buffered to the newest output file (a new one past the file size). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queueBuffer();
    if (this.forgotten) this.full.length = 0;
    while (this.full.length > 0) {
      const chunk = this.full.shift();
      if (chunk === undefined) break;
      try {
        const open = this.files.at(-1);
        // Files stay about fileBytes large, so the budget deletes output in small steps.
        if (
          this.fd !== -1 &&
          open &&
          open.bytes > 0 &&
          open.bytes + chunk.bytes.length > this.owner.fileBytes
        ) {
          this.closeFile();
        }
        const file = this.openFile();
        writeSync(this.fd, chunk.bytes);
        file.bytes += chunk.bytes.length;
        file.lines[0] += chunk.lines[0];
        file.lines[1] += chunk.lines[1];
        this.owner.grew(chunk.bytes.length);
      } catch (error) {
        this.owner.log(
          `cannot write agent output in ${this.dir}: ${describe(error)}; that output is kept in memory only`,
        );
        this.closeFile();
      }
      if (chunk.whole.length === this.usualBytes) this.spare = chunk.whole;
    }
    this.owner.enforce();
  }

  private openFile(): OutputFile {
    const current = this.files.at(-1);
    if (this.fd !== -1 && current !== undefined) return current;
    const stamp = this.owner.nextStamp();
    const path = join(this.dir, `out-${String(stamp).padStart(12, '0')}.log`);
    this.fd = openSync(path, 'a', 0o600);
    const file: OutputFile = { path, stamp, owner: this, bytes: 0, lines: [0, 0] };
    this.files.push(file);
    this.owner.added(file);
    return file;
  }

  private closeFile(): void {
    if (this.fd === -1) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = -1;
  }

  /** Deletes one of its output files (the disk budget's choice); its lines count as dropped. */
  dropFile(file: OutputFile): void {
    if (file === this.files.at(-1) && this.fd !== -1) this.closeFile();
    const i = this.files.indexOf(file);
    if (i >= 0) this.files.splice(i, 1);
    rmSync(file.path, { force: true });
    this.record = {
      ...this.record,
      dropped_stdout: this.record.dropped_stdout + file.lines[0],
      dropped_stderr: this.record.dropped_stderr + file.lines[1],
    };
    this.writeRecord();
  }

  /** The agent is no longer kept: its directory goes. */
  forget(): void {
    this.forgotten = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closeFile();
    rmSync(this.dir, { recursive: true, force: true });
  }

  close(): void {
    this.flush();
    this.closeFile();
  }

  /** Reads its output files back into `store`; a corrupt file is moved aside. */
  readInto(store: LineStore): void {
    for (const file of [...this.files]) {
      let data: Buffer;
      try {
        data = readFileSync(file.path);
      } catch (error) {
        this.owner.log(`cannot read agent output ${file.path}: ${describe(error)}; its lines are not shown`);
        continue;
      }
      let start = 0;
      for (;;) {
        const nl = data.indexOf(NEWLINE, start);
        if (nl === -1) break; // nothing left, or a torn last line
        const tag = data[start];
        if (tag === TAG_BYTE[0]) store.append('stdout', data.subarray(start + 1, nl + 1));
        else if (tag === TAG_BYTE[1]) store.append('stderr', data.subarray(start + 1, nl + 1));
        else {
          this.owner.moveAside(file.path, `output file is corrupt at byte ${start}`);
          break;
        }
        start = nl + 1;
      }
    }
  }
}

/**
 * The agents' records and output in the state dir (docs/PROTOCOL.md §4.9), so that a restarted
 * server still lists the agents of its earlier run and answers queries on their output.
 *
 * Records are rewritten whole (temp file, fsync, rename) when an agent starts, ends, or loses
 * output to the disk budget. Output is appended line by line through a per-agent buffer,
 * written when it is full, else at most {@link OUTPUT_FLUSH_MS} later (at once when the agent
 * ends), not fsynced: a crash may lose the last moments of output, never a record. Over
 * `outputBytes` the oldest output file (of any agent) is deleted and its lines are counted as
 * dropped in its record.
 *
 * Damage never stops the server: an unreadable record moves its agent's directory to
 * `agents-aside/`, a corrupt output file is moved there, each with a log line saying so.
 */
export class AgentRecords {
  private readonly byId = new Map<string, AgentFiles>();
  /** Every output file, oldest first. */
  private readonly files: OutputFile[] = [];
  private held = 0;
  private stamp = 0;
  private seq = 0;
  private readonly restoredAgents: RestoredAgent[] = [];

  private constructor(
    private readonly root: string,
    private readonly options: AgentRecordsOptions,
  ) {}

  /** Most bytes of output files (0: no output kept on disk). */
  get outputBytes(): number {
    return this.options.outputBytes;
  }

  /** An output file is closed and a new one started past this size (a 16th of the budget, ≤ 4 MiB). */
  get fileBytes(): number {
    return Math.max(4096, Math.min(4 * 1024 * 1024, Math.floor(this.options.outputBytes / 16)));
  }

  /** Bytes of output files on disk now. */
  get heldBytes(): number {
    return this.held;
  }

  log(line: string): void {
    this.options.log(line);
  }

  /**
   * Reads the records under `<stateDir>/agents/`. Agents whose record says they were running
   * are marked lost (status `failed`, end reason `lost`, ended when their files were last
   * written) and their record is rewritten so.
   * @throws the file system's error when the agents folder cannot be created
   */
  static open(stateDir: string, options: AgentRecordsOptions): AgentRecords {
    const root = join(stateDir, AGENTS_DIR);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    const records = new AgentRecords(root, options);
    records.load();
    return records;
  }

  /** The agents of earlier runs, in spawn order. */
  get restored(): readonly RestoredAgent[] {
    return this.restoredAgents;
  }

  private load(): void {
    const found: AgentFiles[] = [];
    for (const name of readdirSync(this.root)) {
      const dir = join(this.root, name);
      try {
        const loaded = this.loadAgent(name, dir);
        if (loaded !== null) found.push(loaded);
      } catch (error) {
        this.moveAside(dir, `agent folder ${dir} cannot be read (${describe(error)})`);
      }
    }
    found.sort((a, b) => a.record.seq - b.record.seq);
    for (const files of found) {
      this.byId.set(files.record.id, files);
      this.seq = Math.max(this.seq, files.record.seq + 1);
      let record = files.record;
      if (record.ended_at_ms === null || record.end_reason === null) {
        record = {
          ...record,
          status: 'failed',
          end_reason: 'lost',
          exit_code: null,
          signal: null,
          ended_at_ms: this.lastWritten(files),
        };
        files.record = record;
        files.writeRecord();
      }
      const facts: RestoredFacts = {
        pid: record.pid,
        startedAtMs: record.started_at_ms,
        endedAtMs: record.ended_at_ms ?? record.started_at_ms,
        status: record.status,
        exitCode: record.exit_code,
        signal: record.signal,
        endReason: record.end_reason as AgentEndReason,
      };
      this.restoredAgents.push({
        record,
        facts,
        readInto: (store) => {
          files.readInto(store);
        },
      });
    }
    this.files.sort((a, b) => a.stamp - b.stamp);
    this.enforce();
  }

  private loadAgent(name: string, dir: string): AgentFiles | null {
    if (!statSync(dir).isDirectory()) return null;
    const recordPath = join(dir, RECORD_FILE);
    let record: AgentRecord | string;
    try {
      record = parseAgentRecord(JSON.parse(readFileSync(recordPath, 'utf8')) as unknown, name);
    } catch (error) {
      record = describe(error);
    }
    if (typeof record === 'string') {
      this.moveAside(dir, `agent record ${recordPath} is unreadable (${record})`);
      return null;
    }
    const files = new AgentFiles(dir, record, this);
    for (const entry of readdirSync(dir).sort()) {
      const match = OUTPUT_FILE.exec(entry);
      if (!match) continue;
      const path = join(dir, entry);
      const stamp = Number(match[1]);
      const data = readFileSync(path);
      const lines: [number, number] = [0, 0];
      for (
        let start = 0, nl = data.indexOf(NEWLINE);
        nl !== -1;
        start = nl + 1, nl = data.indexOf(NEWLINE, start)
      ) {
        if (data[start] === TAG_BYTE[1]) lines[1]++;
        else lines[0]++;
      }
      const file: OutputFile = { path, stamp, owner: files, bytes: data.length, lines };
      files.files.push(file);
      this.added(file);
      this.held += data.length;
      this.stamp = Math.max(this.stamp, stamp);
    }
    return files;
  }

  private lastWritten(files: AgentFiles): number {
    let last = files.record.started_at_ms;
    for (const path of [join(files.dir, RECORD_FILE), ...files.files.map((f) => f.path)]) {
      try {
        last = Math.max(last, Math.floor(statSync(path).mtimeMs));
      } catch {
        // gone meanwhile
      }
    }
    return last;
  }

  /** Moves a damaged file or directory to `agents-aside/` and logs why. Never throws. */
  moveAside(path: string, why: string): void {
    const asideDir = join(this.root, '..', ASIDE_DIR);
    const now = this.options.now?.() ?? Date.now();
    const target = join(asideDir, `${path.slice(this.root.length + 1).replace(/[\\/]/g, '_')}-${now}`);
    try {
      mkdirSync(asideDir, { recursive: true, mode: 0o700 });
      renameSync(path, target);
      this.log(`${why}; moved it to ${target}`);
    } catch (error) {
      this.log(`${why}; it could not be moved aside (${describe(error)}) and is ignored`);
    }
  }

  /**
   * Starts the record of a new agent (written when it starts and ends).
   * @returns the journal the agent reports its lines and facts to, or null when its
   *   directory cannot be created (then it runs without a record; logged)
   */
  create(agent: {
    readonly id: string;
    readonly name: string;
    readonly backend: string;
    readonly task: string;
  }): AgentJournal | null {
    const dir = join(this.root, agent.id);
    try {
      mkdirSync(dir, { mode: 0o700 });
    } catch (error) {
      this.log(
        `cannot create the record folder ${dir}: ${describe(error)}; agent ${agent.id} is not kept across restarts`,
      );
      return null;
    }
    const now = this.options.now?.() ?? Date.now();
    const files = new AgentFiles(
      dir,
      {
        v: AGENT_RECORD_VERSION,
        id: agent.id,
        seq: this.seq++,
        name: agent.name,
        backend: agent.backend,
        task: agent.task,
        pid: null,
        started_at_ms: now,
        ended_at_ms: null,
        status: 'running',
        exit_code: null,
        signal: null,
        end_reason: null,
        dropped_stdout: 0,
        dropped_stderr: 0,
      },
      this,
    );
    this.byId.set(agent.id, files);
    return files;
  }

  /** The agent is no longer kept (the exited-agents limit): its record and output go. */
  forget(id: string): void {
    const files = this.byId.get(id);
    if (!files) return;
    this.byId.delete(id);
    for (const file of files.files) this.removed(file);
    files.forget();
  }

  /** @internal */
  nextStamp(): number {
    return ++this.stamp;
  }

  /** @internal */
  added(file: OutputFile): void {
    this.files.push(file);
  }

  /** @internal */
  grew(bytes: number): void {
    this.held += bytes;
  }

  private removed(file: OutputFile): void {
    const i = this.files.indexOf(file);
    if (i >= 0) this.files.splice(i, 1);
    this.held -= file.bytes;
  }

  /** Deletes the oldest output files until the files hold at most `outputBytes`. */
  enforce(): void {
    while (this.held > this.options.outputBytes) {
      const oldest = this.files[0];
      if (oldest === undefined) break;
      this.removed(oldest);
      oldest.owner.dropFile(oldest);
    }
  }

  /** Writes every buffered line out and closes the files (at shutdown). */
  close(): void {
    for (const files of this.byId.values()) files.close();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
}
