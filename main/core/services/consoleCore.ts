import { CommandQueue } from '../queue/commandQueue';
import { SqliteCommandStore } from '../queue/sqliteCommandStore';
import { loadClientKey, type ClientKey } from '../security/clientKey';
import { AgentControlService } from './agentControlService';
import { ProfileStore } from './profileStore';
import { ServerRegistry } from './serverRegistry';

export interface ConsoleCoreOptions {
  /** The app-data directory: holds the command database, its owner lock, `servers.json` and `client.key`. */
  dataDir: string;
  /** Pending (queued + sending) commands allowed per server; default 1000. */
  maxPending?: number;
  /** Commands on the wire at once per server; default 16. */
  window?: number;
  /** Default reply timeout of a request, ms; default 30 000. */
  requestTimeoutMs?: number;
}

/** Everything a process that owns the command queue holds, wired together. */
export interface ConsoleCore {
  readonly dataDir: string;
  /** This installation's CurveZMQ key pair (`<dataDir>/client.key`). */
  readonly clientKey: ClientKey;
  readonly queue: CommandQueue;
  readonly profiles: ProfileStore;
  readonly registry: ServerRegistry;
  readonly service: AgentControlService;
  /**
   * Stops sending, closes every socket and then the queue, in reverse order of creation.
   * Commands still on the wire stay `sending` on disk and are recovered by the next owner.
   * Idempotent.
   * @param lingerMs how long sockets may keep flushing queued sends
   */
  dispose(lingerMs?: number): Promise<void>;
}

/**
 * The composition root of the core, shared by every host (Electron, browser, `ctl --queue`):
 * the durable queue in `dataDir`, the server profiles, one session per server and the service.
 * Connections to every configured server start at once, and their dispatchers deliver what
 * earlier processes left queued.
 *
 * @throws QueueLockedError when another live process (a running console, another
 *   `ctl --queue`) owns `dataDir`; StoreFailureError when the database cannot be opened
 *   durably; ProfileError('corrupt') when `servers.json` is unreadable (the queue is closed
 *   again first); KeyFileError when `client.key` exists but cannot be used (nothing is opened)
 */
export function openConsoleCore(options: ConsoleCoreOptions): ConsoleCore {
  // First: it makes the data dir (0700) on a first run, and a broken key file stops us before
  // anything else is opened. The key is created even when every profile is plain, so the
  // operator can hand it to a server before switching a profile to encrypted.
  const clientKey = loadClientKey(options.dataDir);
  const store = SqliteCommandStore.open(options.dataDir);
  let queue: CommandQueue;
  try {
    queue = new CommandQueue(
      store,
      options.maxPending === undefined ? {} : { maxPending: options.maxPending },
    );
  } catch (error) {
    store.close();
    throw error;
  }
  let profiles: ProfileStore;
  try {
    profiles = new ProfileStore(options.dataDir);
  } catch (error) {
    queue.close();
    throw error;
  }
  const registry = new ServerRegistry({
    profiles,
    queue,
    clientKeyPair: clientKey.keyPair,
    ...(options.window === undefined ? {} : { window: options.window }),
    ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
  });
  const service = new AgentControlService(
    registry,
    queue,
    options.requestTimeoutMs === undefined ? {} : { defaultTimeoutMs: options.requestTimeoutMs },
  );
  let disposed: Promise<void> | null = null;
  return {
    dataDir: options.dataDir,
    clientKey,
    queue,
    profiles,
    registry,
    service,
    dispose: (lingerMs = 0) => {
      disposed ??= (async () => {
        service.dispose();
        try {
          await registry.dispose(lingerMs);
        } finally {
          queue.close();
        }
      })();
      return disposed;
    },
  };
}
