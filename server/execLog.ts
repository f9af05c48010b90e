import { closeSync, openSync, writeSync } from 'node:fs';

/** One executed request as written to the exec log. */
export interface ExecRecord {
  readonly request_id: string;
  readonly type: string;
  readonly agent_id?: string;
  readonly agent_ids?: readonly string[];
  readonly command_type?: string;
  readonly action?: string;
}

/**
 * Appends one JSON line per executed mutating request (not replays, not queries), written
 * synchronously before the request runs, so tests can check "ran exactly once".
 */
export class ExecLog {
  private fd: number;

  /** @throws when the file cannot be opened for appending */
  constructor(readonly path: string) {
    // What ran, with task text: readable by this user only.
    this.fd = openSync(path, 'a', 0o600);
  }

  append(record: ExecRecord): void {
    if (this.fd === -1) return;
    writeSync(this.fd, `${JSON.stringify({ ...record, at_ms: Date.now() })}\n`);
  }

  close(): void {
    if (this.fd !== -1) closeSync(this.fd);
    this.fd = -1;
  }
}
