import { ArgsError, parseArgs, USAGE } from './args';
import { ConfigError, loadConfigFile } from './config';
import { startAgentServer } from './agentServer';
import type { AgentServer } from './agentServer';
import { BindError } from './endpoints';
import { StateDirError } from './dedupeJournal';

/**
 * `npm run server -- [--bind …] [--pub …] [--config FILE] [--server-id ID] …`
 *
 * Prints one JSON line `{"event":"ready",…}` on stdout once both sockets are bound. Errors are
 * one stderr line starting with `descartes-server: ` and exit code 1. SIGINT/SIGTERM shut down
 * gracefully (exit 0).
 */
function fail(message: string): never {
  process.stderr.write(`descartes-server: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2));
  } catch (error) {
    if (error instanceof ArgsError) fail(error.message);
    throw error;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const { args } = parsed;
  let server: AgentServer;
  try {
    const config = args.configFile === null ? undefined : loadConfigFile(args.configFile);
    server = await startAgentServer({
      bind: args.bind,
      pub: args.pub,
      ...(config ? { config } : {}),
      ...(args.serverId === null ? {} : { serverId: args.serverId }),
      ...(args.heartbeatMs === null ? {} : { heartbeatMs: args.heartbeatMs }),
      ...(args.maxAgents === null ? {} : { maxAgents: args.maxAgents }),
      ...(args.stateDir === null ? {} : { stateDir: args.stateDir }),
      ...(args.execLog === null ? {} : { execLog: args.execLog }),
    });
  } catch (error) {
    if (error instanceof ConfigError || error instanceof BindError || error instanceof StateDirError)
      fail(error.message);
    const code = (error as NodeJS.ErrnoException).code;
    fail(
      error instanceof Error
        ? `${error.message}${code && !error.message.includes(code) ? ` (${code})` : ''}`
        : String(error),
    );
  }
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`descartes-server: ${signal}: stopping agents and closing sockets\n`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`descartes-server: error during shutdown: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const parentPid = args.parentPid;
  if (parentPid !== null) {
    // An embedded server must not outlive a console that was killed without a chance to stop it.
    setInterval(() => {
      if (!isAlive(parentPid)) stop('SIGTERM');
    }, 1000).unref();
  }
  process.stdout.write(
    `${JSON.stringify({ event: 'ready', bind: server.bindEndpoint, pub: server.pubEndpoint, server_id: server.serverId, pid: process.pid })}\n`,
  );
}

/** Whether a process exists (EPERM: it exists but is not ours). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

main().catch((error: unknown) => {
  fail(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
});
