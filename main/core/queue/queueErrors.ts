/**
 * Errors the command queue and its store throw. Each has a stable `code` so hosts can map it
 * to an `IpcResult` error without matching on message text; messages are written for the
 * operator (what happened, to what, and what to do).
 */

/** Stable codes for every queue error. */
export type QueueErrorCode =
  | 'queue_full'
  | 'queue_locked'
  | 'queue_closed'
  | 'command_not_found'
  | 'invalid_transition'
  | 'duplicate_command'
  | 'invalid_command'
  | 'store_failure'
  | 'disk_full'
  | 'quarantine_entry_not_found';

/** Base class: every queue error carries a `code` and its own `name`. */
export abstract class QueueError extends Error {
  abstract readonly code: QueueErrorCode;
  /** @param name the subclass's own name, spelled out so a bundler's renaming cannot change it */
  constructor(name: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = name;
  }
}

/** The server already has `limit` pending (queued or sending) commands. Nothing was stored. */
export class QueueFullError extends QueueError {
  readonly code = 'queue_full';
  constructor(
    readonly serverId: string,
    readonly limit: number,
    readonly pending: number,
  ) {
    super(
      'QueueFullError',
      `The queue for server "${serverId}" is full: ${pending} commands are pending and the limit is ${limit}. ` +
        'The command was not queued. Wait until the server works through its queue (is it online?), ' +
        'cancel queued commands you no longer need, or raise the maxPending setting.',
    );
  }
}

/** Another live process owns the data directory. */
export class QueueLockedError extends QueueError {
  readonly code = 'queue_locked';
  constructor(
    readonly dataDir: string,
    readonly ownerPid: number,
    detail?: string,
  ) {
    super(
      'QueueLockedError',
      detail ??
        `The command queue in "${dataDir}" is in use by another process (pid ${ownerPid}). ` +
          'Close that instance first, or use another data directory. If no such process exists, ' +
          `delete "${dataDir}/owner.lock" and start again.`,
    );
  }
}

/** The queue or store was used after `close()`. */
export class QueueClosedError extends QueueError {
  readonly code = 'queue_closed';
  constructor(operation: string) {
    super('QueueClosedError', `The command queue is closed; cannot ${operation}.`);
  }
}

export class CommandNotFoundError extends QueueError {
  readonly code = 'command_not_found';
  constructor(readonly commandId: string) {
    super('CommandNotFoundError', `No command with request_id ${commandId} in the queue or its history.`);
  }
}

/** The requested operation is not allowed in the command's current state. */
export class InvalidTransitionError extends QueueError {
  readonly code = 'invalid_transition';
  constructor(
    readonly commandId: string,
    readonly from: string,
    readonly operation: string,
    hint?: string,
  ) {
    super(
      'InvalidTransitionError',
      `Cannot ${operation} command ${commandId}: it is ${from}.${hint ? ` ${hint}` : ''}`,
    );
  }
}

export class DuplicateCommandError extends QueueError {
  readonly code = 'duplicate_command';
  constructor(readonly commandId: string) {
    super(
      'DuplicateCommandError',
      `A command with request_id ${commandId} is already in the queue or its history; request ids are never reused.`,
    );
  }
}

/** The command itself is unusable (bad request_id, bad expiry, cannot be encoded, too large…). */
export class InvalidCommandError extends QueueError {
  readonly code = 'invalid_command';
  constructor(message: string) {
    super('InvalidCommandError', message);
  }
}

/** The database could not be opened, configured or written; `cause` holds the engine's error. */
export class StoreFailureError extends QueueError {
  readonly code = 'store_failure';
  constructor(message: string, options?: { cause?: unknown }) {
    super('StoreFailureError', message, options);
  }
}

/**
 * The disk holding the command database is full (or the database reached its size limit). The
 * write that hit it was not stored, in full: SQLite rolled it back. Everything stored before
 * is kept. The message says which write failed and what was kept.
 */
export class DiskFullError extends QueueError {
  readonly code = 'disk_full';
  /** The directory whose disk is full (the data directory), when known. */
  readonly directory: string | null;
  constructor(message: string, options?: { cause?: unknown; directory?: string }) {
    super('DiskFullError', message, options);
    this.directory = options?.directory ?? null;
  }
}

/** `discard` named a quarantine entry that does not exist (any more). */
export class QuarantineEntryNotFoundError extends QueueError {
  readonly code = 'quarantine_entry_not_found';
  constructor(readonly key: number | string) {
    super(
      'QuarantineEntryNotFoundError',
      `No quarantined command ${typeof key === 'number' ? `with entry number ${key}` : `with request id ${key}`}; it may have been discarded already.`,
    );
  }
}

/** The message of a thrown value, for error text that wraps it. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
