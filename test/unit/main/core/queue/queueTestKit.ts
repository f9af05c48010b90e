/** Shared builders for the queue tests: real stores in real temp directories. */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach } from 'vitest';
import { createTempDir } from '../../../../helpers/tempDir';
import type { TempDir } from '../../../../helpers/tempDir';
import type { ControlCommand, RequestMessage, SpawnRequest } from '../../../../../shared/protocol';
import { CommandQueue } from '../../../../../main/core/queue/commandQueue';
import type { CommandQueueOptions } from '../../../../../main/core/queue/commandQueue';
import { SqliteCommandStore } from '../../../../../main/core/queue/sqliteCommandStore';
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

export function openStore(dataDir: string): SqliteCommandStore {
  return SqliteCommandStore.open(dataDir, { codec: TEST_CODEC });
}

export function openQueue(dataDir: string, options: CommandQueueOptions = {}): CommandQueue {
  return new CommandQueue(openStore(dataDir), options);
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

/**
 * Gives each test a fresh temp directory and returns a function that opens queues in it;
 * every queue opened that way is closed (and the directory removed) after the test.
 */
export function useQueueDir(prefix = 'descartes-queue-'): (options?: CommandQueueOptions) => CommandQueue {
  let temp: TempDir | null = null;
  const open: CommandQueue[] = [];
  beforeEach(async () => {
    temp = await createTempDir(prefix);
  });
  afterEach(async () => {
    for (const q of open.splice(0)) q.close();
    await temp?.remove();
  });
  return (options = {}) => {
    if (temp === null) throw new Error('useQueueDir: open queues inside a test');
    const q = openQueue(temp.path, options);
    open.push(q);
    return q;
  };
}
