import { ArgsError, parseArgs, USAGE } from './args';
import { ConfigError, loadConfigFile } from './config';
import { startAgentServer } from './agentServer';
import type { AgentServer } from './agentServer';
import { BindError } from './endpoints';
import { StateDirError } from './dedupeJournal';
import { KeyFileError } from '../shared/node/curveKeyPair';
import { isProcessAlive } from '../shared/node/processAlive';
import { AuthorizedClientsError } from './security/authorizedClients';
import { runKeyCommand } from './keyCommands';
import { defaultStateDir } from './stateDir';
import { isLoopbackEndpoint } from './endpoints';

/**
 * `npm run server -- [--bind …] [--pub …] [--config FILE] [--server-id ID] [--insecure] …`
 * and the key subcommands `key`, `allow`, `revoke`, `clients` (see `USAGE`).
 *
 * Prints one JSON line `{"event":"ready",…}` on stdout once both sockets are bound: the
 * endpoints as bound, `server_id`, `pid`, `security` (`curve` or `none`) and `public_key` (Z85,
 * null when insecure). Errors are one stderr line starting with `descartes-server: ` and exit
 * code 1. SIGINT/SIGTERM shut down gracefully (exit 0).
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
  if (parsed.kind !== 'run') {
    try {
      const result = runKeyCommand(parsed);
      process.stdout.write(result.stdout);
      process.stderr.write(result.stderr);
      process.exitCode = result.exitCode;
    } catch (error) {
      if (error instanceof KeyFileError || error instanceof AuthorizedClientsError) fail(error.message);
      throw error;
    }
    return;
  }
  const { args } = parsed;
  let server: AgentServer;
  const stateDir = args.stateDir ?? defaultStateDir();
  try {
    const config = args.configFile === null ? undefined : loadConfigFile(args.configFile);
    server = await startAgentServer({
      bind: args.bind,
      pub: args.pub,
      ...(config ? { config } : {}),
      ...(args.serverId === null ? {} : { serverId: args.serverId }),
      ...(args.heartbeatMs === null ? {} : { heartbeatMs: args.heartbeatMs }),
      ...(args.maxAgents === null ? {} : { maxAgents: args.maxAgents }),
      stateDir,
      insecure: args.insecure,
      onFatal: (error) => {
        process.stderr.write(`descartes-server: ${error.message}; stopping agents and exiting\n`);
        void server.close().finally(() => process.exit(1));
      },
      ...(args.allowClient === null ? {} : { allowClients: [args.allowClient] }),
      ...(args.execLog === null ? {} : { execLog: args.execLog }),
    });
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof BindError ||
      error instanceof KeyFileError ||
      error instanceof AuthorizedClientsError
    )
      fail(error.message);
    if (error instanceof StateDirError)
      fail(
        `${error.message}${args.stateDir === null ? ' (to run a second server on this machine, give it its own --state-dir)' : ''}`,
      );
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
      if (!isProcessAlive(parentPid)) stop('SIGTERM');
    }, 1000).unref();
  }
  if (server.security === 'none') {
    for (const endpoint of [server.boundCommandEndpoint, server.boundEventEndpoint]) {
      if (!isLoopbackEndpoint(endpoint)) {
        process.stderr.write(
          `descartes-server: WARNING: ${endpoint} is reachable from other machines without encryption or authentication (--insecure): anyone who reaches it can run commands${endpoint === server.boundEventEndpoint ? " and read every agent's output" : ''}\n`,
        );
      }
    }
  } else if (server.publicKey !== null) {
    process.stderr.write(
      `descartes-server: CURVE on; public key ${server.publicKey} (state dir ${stateDir}); admit a console with: npm run server -- allow '<its key>'\n`,
    );
  }
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      bind: server.boundCommandEndpoint,
      pub: server.boundEventEndpoint,
      server_id: server.serverId,
      pid: process.pid,
      security: server.security,
      public_key: server.publicKey,
    })}\n`,
  );
}

main().catch((error: unknown) => {
  fail(`unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
});
