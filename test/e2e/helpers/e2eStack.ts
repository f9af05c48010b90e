/// <reference types="mocha" />
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browser } from '@wdio/globals';
import { loadClientKey } from '../../../main/core/security/clientKey';
import { nodeBackends } from '../../helpers/agents';
import { PortAllocator, isPortFree } from '../../helpers/ports';
import { startServerProcess, type ServerProcess } from '../../helpers/serverProcess';
import { createTempDir, type TempDir } from '../../helpers/tempDir';
import { startConsoleApp, type ConsoleApp } from './consoleApp';
import { addServer, openConsole, openServer } from './ui';

/**
 * Port plan of the e2e suite: browser hosts in 32500–32639, agent servers in 27000–28399
 * (command port + PUB port next to it). Each spec file takes its own slot so files never
 * collide, even when wdio runs several at once.
 */
export const CONSOLE_PORTS = { first: 32500, last: 32639 } as const;
const CONSOLE_PORTS_PER_SLOT = 10;
export const SERVER_PORTS = { first: 27000, last: 28399 } as const;
const SLOT_COUNT = 14;

/**
 * `E2E_TARGET=electron` (untested here): wdio-electron-service launches the app itself with the
 * data dir `wdio.conf.ts` put in `DESCARTES_DATA_DIR`; "stop the app" is a no-op and "start the
 * app" restarts it through `browser.reloadSession()`.
 */
const electron = process.env.E2E_TARGET === 'electron';

/** One executed mutating request, as the agent server's `--exec-log` writes it. */
export interface ExecLogRecord {
  request_id: string;
  type: string;
  agent_id?: string;
  agent_ids?: string[];
  command_type?: string;
  action?: string;
  at_ms: number;
}

/**
 * Everything one spec file needs: a fresh data dir, a real agent server (node backend for the
 * fixture agents, dedupe journal in a state dir, exec log) and the console process.
 */
export class E2eStack {
  app: ConsoleApp | null = null;
  server: ServerProcess | null = null;
  private electronStarts = 0;

  private constructor(
    readonly slot: number,
    readonly dir: TempDir,
    readonly consolePort: number,
    readonly serverPort: number,
    readonly embeddedPort: number,
  ) {}

  /**
   * Allocates ports for `slot` (0–13).
   * @throws RangeError for a slot outside 0–13; Error when the slot's ports are all taken
   */
  static async create(slot: number): Promise<E2eStack> {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOT_COUNT)
      throw new RangeError(`e2e slot must be 0-${SLOT_COUNT - 1}, got ${slot}`);
    const consolePorts = new PortAllocator(
      CONSOLE_PORTS.first + slot * CONSOLE_PORTS_PER_SLOT,
      CONSOLE_PORTS.first + (slot + 1) * CONSOLE_PORTS_PER_SLOT - 1,
    );
    const base = SERVER_PORTS.first + slot * 100;
    const serverPort = await freePair(base, base + 49);
    const embeddedPort = await freePair(base + 50, base + 99);
    const dir = await createTempDir(`descartes-e2e-${slot}-`);
    return new E2eStack(slot, dir, await consolePorts.next(), serverPort, embeddedPort);
  }

  get dataDir(): string {
    if (electron && process.env.DESCARTES_DATA_DIR) return process.env.DESCARTES_DATA_DIR;
    return join(this.dir.path, 'data');
  }

  get execLogPath(): string {
    return join(this.dir.path, 'exec.log');
  }

  get endpoint(): string {
    return `tcp://127.0.0.1:${this.serverPort}`;
  }

  /** The agent server's state dir (its key pair and `authorized_clients`). */
  get serverStateDir(): string {
    return join(this.dir.path, 'server-state');
  }

  /**
   * The console's public key. The console keeps its key pair in its data dir (`client.key`);
   * reading it through the console's own loader creates it before the console first starts,
   * so a server can allow it up front, as an operator's `allow` would.
   */
  consolePublicKey(): string {
    return loadClientKey(this.dataDir).info.publicKey;
  }

  /**
   * The running agent server's public key, from its ready line: what an operator pins.
   * @throws Error before the server is ready, or when it runs without CURVE
   */
  get serverKey(): string {
    const key = this.server?.ready?.public_key ?? null;
    if (key === null) throw new Error('the agent server is not ready or runs --insecure: no public key');
    return key;
  }

  /**
   * Starts (or restarts on the same ports, state dir and exec log) the agent server, over CURVE.
   * @param options.allowConsole allow the console's key (default true); false leaves the
   *   console a stranger to the server, as before an operator runs `allow`
   */
  async startServer(options: { allowConsole?: boolean } = {}): Promise<ServerProcess> {
    this.server = await startServerProcess({
      port: this.serverPort,
      config: { backends: nodeBackends() },
      stateDir: this.serverStateDir,
      execLog: this.execLogPath,
      allowClient: options.allowConsole === false ? null : this.consolePublicKey(),
      args: ['--heartbeat-ms', '1000'],
    });
    return this.server;
  }

  /** SIGTERM to the agent server (it stops its agents), SIGKILL after 10 s. */
  async stopServer(): Promise<void> {
    await this.server?.stop('SIGTERM', 10_000);
  }

  /**
   * Starts (or restarts on the same data dir and port) the console; returns its URL (empty for
   * Electron, whose window is already on the console).
   */
  async startApp(): Promise<string> {
    if (electron) {
      if (this.electronStarts++ > 0) await browser.reloadSession();
      return '';
    }
    this.app = await startConsoleApp({
      dataDir: this.dataDir,
      port: this.consolePort,
      embeddedPort: this.embeddedPort,
    });
    return this.app.url;
  }

  async stopApp(): Promise<void> {
    await this.app?.stop();
  }

  /** The exec log's records, oldest first (empty when nothing ran yet). */
  execLog(): ExecLogRecord[] {
    if (!existsSync(this.execLogPath)) return [];
    return readFileSync(this.execLogPath, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as ExecLogRecord);
  }

  /** Output of both processes, for a failing test. */
  diagnostics(): string {
    return `${this.app?.diagnostics() ?? '(no console)'}\n${this.server?.diagnostics() ?? '(no agent server)'}`;
  }

  /** Stops the console and the server and removes the temp dir (kept when `E2E_KEEP=1`). */
  async dispose(): Promise<void> {
    await this.stopApp();
    await this.stopServer();
    if (process.env.E2E_KEEP !== '1') await this.dir.remove();
  }
}

/** The first port `p` in `first..last` with `p` and `p + 1` both free. */
async function freePair(first: number, last: number): Promise<number> {
  for (let p = first; p < last; p += 2) {
    if ((await isPortFree(p)) && (await isPortFree(p + 1))) return p;
  }
  throw new Error(`no two free neighbouring ports in ${first}-${last}`);
}

/**
 * The hooks of a suite run against one stack on port slot `slot`: `before` creates it and runs
 * `setUp`; a failed test prints the console's and the server's diagnostics; `after` disposes of
 * it. Read `suite.stack` in hooks and tests (it exists once `before` has run).
 */
export function e2eSuite(
  slot: number,
  setUp: (stack: E2eStack) => Promise<void>,
): { readonly stack: E2eStack } {
  let current: E2eStack | null = null;
  before(async function () {
    current = await E2eStack.create(slot);
    await setUp(current);
  });
  afterEach(function () {
    if (this.currentTest?.state === 'failed') console.error(current?.diagnostics());
  });
  after(async function () {
    await current?.dispose();
  });
  return {
    get stack(): E2eStack {
      if (current === null) throw new Error("the e2e stack is created in the suite's before hook");
      return current;
    },
  };
}

/**
 * Starts the agent server and the console, adds the server as `name` (health check every
 * second, its key pinned) and opens its agents.
 */
export async function openConsoleOnServer(stack: E2eStack, name: string): Promise<void> {
  await stack.startServer();
  await openConsole(await stack.startApp());
  await addServer(name, stack.endpoint, 1000, stack.serverKey);
  await openServer(name);
}
