/**
 * Shared pieces of the client-core integration tests: agent servers with the fixture `node`
 * backend and an exec log, reading that log, and ctl as a child process.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type * as zmq from 'zeromq';
import { healthReply } from '../../helpers/healthReply';
import { startScriptedRouter } from '../../helpers/scriptedRouter';
import type { AgentConfig, RequestMessage, ZmqMessage } from '../../../shared/protocol';
import { fixtureAgent, nodeBackends, type FixtureAgent } from '../../helpers/agents';
import { useCleanups } from '../../helpers/useCleanups';
import { useTempDir } from '../../helpers/useTempDir';
import { waitUntil } from '../../helpers/wait';
import { REPO_ROOT, startServerProcess, type ServerProcess } from '../../helpers/serverProcess';
import type { ServerSecurity } from '../../../shared/domain/server';
import { loadOrCreateKeyPair } from '../../../shared/node/curveKeyPair';
import {
  openConsoleCore,
  type ConsoleCore,
  type ConsoleCoreOptions,
} from '../../../main/core/services/consoleCore';
import { seedClientKey } from '../transport/curveKit';

export { securityOf, seedClientKey } from '../transport/curveKit';

/**
 * A console core whose client key is the one harness servers allow (seeded into
 * `options.dataDir` first), so its profiles reach them over CURVE as a real console would.
 */
export function openTestCore(options: ConsoleCoreOptions): ConsoleCore {
  seedClientKey(options.dataDir);
  return openConsoleCore(options);
}

/**
 * The security of a profile for the node server kept in `dir` (see {@link startNodeServer}),
 * known before it first starts: its key pair is made in its state dir, as the server itself
 * would, and the server reuses it on every start.
 */
export function nodeServerSecurity(dir: string): ServerSecurity {
  const { keyPair } = loadOrCreateKeyPair(join(dir, 'state', 'server.key'), 'server');
  return { mode: 'curve', serverKey: keyPair.publicKey };
}

/** One line of the server's `--exec-log`: a mutating request it executed (replays are not logged). */
export interface ExecEntry {
  request_id: string;
  type: string;
  agent_id?: string;
  command_type?: string;
  action?: string;
}

/** Every request the server executed, in order (empty when the log does not exist yet). */
export function readExecLog(path: string): ExecEntry[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as ExecEntry);
}

/** How many times each request_id appears in the exec log. */
export function execCounts(path: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of readExecLog(path)) counts.set(e.request_id, (counts.get(e.request_id) ?? 0) + 1);
  return counts;
}

/**
 * Starts an agent server on 127.0.0.1:`port` (PUB on `pubPort`) with the fixture `node`
 * backend, its exec log at `<dir>/exec.log` and its dedupe state in `<dir>/state`, so a
 * restart with the same `dir` keeps answering repeats from its cache.
 */
export function startNodeServer(
  port: number,
  pubPort: number,
  dir: string,
  extra: { args?: string[]; config?: Record<string, unknown> } = {},
): Promise<ServerProcess> {
  return startServerProcess({
    port,
    pubPort,
    execLog: join(dir, 'exec.log'),
    stateDir: join(dir, 'state'),
    config: { backends: nodeBackends(), ...extra.config },
    args: ['--heartbeat-ms', '500', ...(extra.args ?? [])],
  });
}

/** What a ctl run printed and how it ended. */
export interface CtlRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, typed as the test expects it (throws when it is not one JSON document). */
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- a typed view for assertions
  json<T = Record<string, unknown>>(): T;
}

/** Runs `node --import tsx main/cli/ctl.ts …args` with `DESCARTES_DATA_DIR=dataDir`. */
export function runCtlProcess(args: readonly string[], dataDir: string, timeoutMs = 60_000): Promise<CtlRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'main/cli/ctl.ts', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DESCARTES_DATA_DIR: dataDir, DESCARTES_SERVER: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ctl ${args.join(' ')} did not finish in ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- see CtlRun.json
        json: <T>() => {
          try {
            return JSON.parse(stdout) as T;
          } catch {
            throw new Error(
              `ctl ${args.join(' ')} printed no JSON (exit ${String(code)}); stdout: ${stdout}; stderr: ${stderr}`,
            );
          }
        },
      });
    });
  });
}

/** Waits until the registry's connection to `serverId` is online (it has answered a health check). */
export function waitServerOnline(
  registry: { status(id: string): { state: string } },
  serverId: string,
  timeoutMs = 15_000,
): Promise<true> {
  return waitUntil(() => (registry.status(serverId).state === 'online' ? true : undefined), {
    timeoutMs,
    intervalMs: 20,
    what: `server ${serverId} to be online`,
  });
}

/** A spawn config that runs fixture `script` with the `node` backend under `name`. */
export function nodeAgent(
  script: FixtureAgent,
  name: string = script.replace('.js', ''),
  env: Record<string, string> = {},
): Partial<AgentConfig> & Pick<AgentConfig, 'name' | 'model_backend' | 'task'> {
  return { ...fixtureAgent(script, env, name), name };
}

/**
 * A ROUTER on 127.0.0.1:`port` that answers like the Rust descartes 1.0.0 server (health
 * replies without metadata, so no capabilities), records every request it receives in
 * `received`, and answers the others with `answer` (null: no reply). Close it when done.
 */
export function startRustLikeRouter(
  port: number,
  received: RequestMessage[],
  answer: (req: RequestMessage) => ZmqMessage | null,
): Promise<zmq.Router> {
  return startScriptedRouter(port, async (req, send) => {
    received.push(req);
    const reply = req.type === 'health_check_request' ? healthReply(req) : answer(req);
    if (reply !== null) await send(reply);
  });
}

/** What {@link useTestBed} gives a test file. */
export interface TestBed {
  /** A path inside the file's temp dir (made before its first test, removed after its last). */
  readonly path: (name: string) => string;
  /** A test core in `path(name)`, disposed after the test. */
  readonly core: (name: string, options?: Omit<ConsoleCoreOptions, 'dataDir'>) => ConsoleCore;
  /** Closes `router` after the test; returns it. */
  readonly adopt: (router: zmq.Router) => zmq.Router;
}

/**
 * The hooks most client tests share, on `useTempDir` and `useCleanups`: one temp dir per file,
 * and the cores and routers a test opened closed after it.
 */
export function useTestBed(prefix: string): TestBed {
  const temp = useTempDir(prefix, 'file');
  const cleanups = useCleanups();
  const path = (name: string): string => join(temp.path, name);
  return {
    path,
    core: (name, options = {}) => {
      const c = openTestCore({ dataDir: path(name), ...options });
      cleanups.push(() => c.dispose());
      return c;
    },
    adopt: (router) => {
      cleanups.push(() => {
        router.close();
      });
      return router;
    },
  };
}

/**
 * Adds a plain profile (a scripted ROUTER or a Rust 1.0.0 server speaks plain ZMTP) for
 * 127.0.0.1:`port` to `core`, heartbeat `heartbeatIntervalMs`, and waits until it is online.
 * @returns the profile's server id
 */
export async function addPlainServer(
  core: ConsoleCore,
  port: number,
  heartbeatIntervalMs = 200,
): Promise<string> {
  const sid = core.registry.add({
    name: `plain-${port}`,
    endpoint: `tcp://127.0.0.1:${port}`,
    heartbeatIntervalMs,
    security: { mode: 'plain' },
  }).id;
  await waitServerOnline(core.registry, sid);
  return sid;
}
