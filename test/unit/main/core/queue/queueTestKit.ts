/** Shared builders for the queue tests: real stores in real temp directories. */
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import type { ControlCommand, RequestMessage, SpawnRequest } from '../../../../../shared/protocol';
import type { CommandState, QueuedCommand } from '../../../../../shared/domain/command';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import type { CommandQueueOptions } from '../../../../../main/core/queue/commandQueue';
import type { CommandStore, NewCommand } from '../../../../../main/core/queue/commandStore';
import { DATABASE_FILE, SqliteCommandStore } from '../../../../../main/core/queue/sqliteCommandStore';
import { wireRequestCodec } from '../../../../../main/core/queue/requestCodec';
import type { RequestCodec } from '../../../../../main/core/queue/requestCodec';

/** The codec the tests store requests with: the real wire codec. */
export const TEST_CODEC: RequestCodec = wireRequestCodec;

export function controlCommand(commandType: ControlCommand['command_type'] = 'pause'): ControlCommand {
  return {
    type: 'control_command',
    request_id: randomUUID(),
    agent_id: randomUUID(),
    command_type: commandType,
    payload: { force: true },
  };
}

export function spawnRequest(name = 'worker'): SpawnRequest {
  return {
    type: 'spawn_request',
    request_id: randomUUID(),
    config: { name, model_backend: 'shell', task: 'echo hi', environment: { A: '1' } },
    timeout_secs: 30,
    metadata: null,
  };
}

/**
 * A never-sent queued command for `serverId` as a store's `insert` takes it (times at 1 ms),
 * for tests that fill a store directly.
 */
export function newCommand(
  serverId: string,
  request: RequestMessage = controlCommand(),
  summary = 'pause',
): NewCommand {
  return {
    id: request.request_id,
    serverId,
    kind: request.type,
    request,
    state: 'queued',
    createdAt: 1,
    updatedAt: 1,
    sentAt: null,
    settledAt: null,
    attempts: 0,
    expiresAt: null,
    outcome: null,
    summary,
    retryOf: null,
  };
}

export function openStore(dataDir: string): SqliteCommandStore {
  return SqliteCommandStore.open(dataDir, { codec: TEST_CODEC });
}

export function openQueue(dataDir: string, options: CommandQueueOptions = {}): CommandQueue {
  return new CommandQueue(openStore(dataDir), options);
}

/**
 * Enqueues one control command for each server id given, in order.
 * @returns the queued commands, one per id
 */
export async function enqueueOn<const T extends readonly string[]>(
  q: CommandQueue,
  ...serverIds: T
): Promise<{ -readonly [K in keyof T]: QueuedCommand }> {
  const out: QueuedCommand[] = [];
  for (const serverId of serverIds) out.push(await q.enqueue(serverId, controlCommand()));
  return out as { -readonly [K in keyof T]: QueuedCommand };
}

/**
 * Hands `id` to the connection as the dispatcher does (`sendNext` of its server, durable),
 * which must pick exactly it: the oldest queued command of its server.
 */
export function send(q: CommandQueue, id: string): QueuedCommand {
  const command = q.get(id);
  if (command === null) throw new Error(`no command ${id}`);
  const window = q.list(command.serverId, ['sending'], 10_000).length + 1;
  const [sent] = q.sendNext(command.serverId, window);
  if (sent?.id !== id) throw new Error(`${id} is not the next command of ${command.serverId}`);
  return sent;
}

/** The ids of the queued commands of `serverId`, in the order they will be sent. */
export function queuedIds(q: CommandQueue, serverId: string): string[] {
  return q.list(serverId, ['queued'], 10_000).map((c) => c.id);
}

/** Resolves with the first `count` commands the queue announces as moving to `state`. */
export function changesTo(q: CommandQueue, state: CommandState, count: number): Promise<QueuedCommand[]> {
  const seen: QueuedCommand[] = [];
  return new Promise((resolve) => {
    const stop = q.onChange(({ command }) => {
      if (command.state !== state) return;
      seen.push(command);
      if (seen.length < count) return;
      stop();
      resolve(seen);
    });
  });
}

/** A settable clock for expiry tests, in ms since the epoch. */
export function manualClock(start = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

export const ok = { kind: 'reply', success: true, error: null, detail: 'done', agentId: null } as const;
export const refused = {
  kind: 'reply',
  success: false,
  error: 'Agent not found',
  detail: 'no',
  agentId: null,
} as const;

export type { RequestMessage };

/** Opens queues in the current test's directory; `dir()` is that directory. */
export interface QueueOpener {
  (options?: CommandQueueOptions): CommandQueue;
  dir(): string;
}

/**
 * Gives each test a fresh temp directory and returns a function that opens queues in it;
 * every queue opened that way is closed (and the directory removed) after the test.
 */
export function useQueueDir(prefix = 'descartes-queue-'): QueueOpener {
  let temp: TempDir | null = null;
  const open: CommandQueue[] = [];
  beforeEach(async () => {
    temp = await createTempDir(prefix);
  });
  afterEach(async () => {
    for (const q of open.splice(0)) q.close();
    await temp?.remove();
  });
  const dir = (): string => {
    if (temp === null) throw new Error('useQueueDir: open queues inside a test');
    return temp.path;
  };
  return Object.assign(
    (options: CommandQueueOptions = {}) => {
      const q = openQueue(dir(), options);
      open.push(q);
      return q;
    },
    { dir },
  );
}

/**
 * Makes the store's fsyncs of its log fail for real: its kept descriptor is swapped for one of
 * /dev/null, whose fsync fails with EINVAL. (An unprivileged process has no other way to make
 * fsync of a regular file fail.) The private field is read for this alone.
 * @returns a function that swaps the log back in, after which an fsync would succeed again
 */
export function breakLogSync(store: SqliteCommandStore, dir: string): () => void {
  const fd = (store as unknown as { logSync: { fd: number | null } }).logSync.fd;
  if (fd === null) throw new Error('setup: the store has no log descriptor');
  const swap = (path: string): void => {
    closeSync(fd);
    const got = openSync(path, 'r+');
    if (got !== fd) throw new Error(`setup: ${path} got descriptor ${got}, not ${fd}`);
  };
  swap('/dev/null');
  return () => {
    swap(join(dir, `${DATABASE_FILE}-wal`));
  };
}

/** What the queue asked of the store, in order. */
export type StoreEvent =
  | { readonly kind: 'insert'; readonly id: string }
  | { readonly kind: 'sync-start' | 'sync-end'; readonly sync: number }
  | { readonly kind: 'frontier'; readonly seq: number | null; readonly durable: boolean };

/**
 * The real store, with its `insert`, `setSendFrontier`, `sync` and `syncInBackground` calls
 * (and when each sync ended) recorded in `events`. Everything else goes straight to the store.
 */
export function observed(store: SqliteCommandStore, events: StoreEvent[]): CommandStore {
  let syncs = 0;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'insert') {
        return (...args: Parameters<CommandStore['insert']>) => {
          const inserted = target.insert(...args);
          events.push({ kind: 'insert', id: inserted.id });
          return inserted;
        };
      }
      if (prop === 'setSendFrontier') {
        return (...args: Parameters<CommandStore['setSendFrontier']>) => {
          target.setSendFrontier(...args);
          events.push({ kind: 'frontier', seq: args[1], durable: args[2]?.durable !== false });
        };
      }
      if (prop === 'sync') {
        return (...args: Parameters<CommandStore['sync']>) => {
          const sync = ++syncs;
          events.push({ kind: 'sync-start', sync });
          target.sync(...args);
          events.push({ kind: 'sync-end', sync });
        };
      }
      if (prop === 'syncInBackground') {
        return async () => {
          const sync = ++syncs;
          events.push({ kind: 'sync-start', sync });
          await target.syncInBackground();
          events.push({ kind: 'sync-end', sync });
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
