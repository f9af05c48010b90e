import { utilityProcess } from 'electron';
import type { ServerExit, ServerLauncher } from '../embeddedServer';
import { SERVER_SERVICE_NAME } from './serverServiceName';

export interface UtilityServerOptions {
  /** The bundled agent server (`dist/server/cli.cjs`; inside `app.asar` when packaged). */
  readonly entry: string;
  /**
   * Its working directory. Not the script's folder: inside a packaged app that is in the asar
   * archive, which no process can `chdir` into. The Electron host passes the data dir.
   */
  readonly cwd: string;
  /** Its environment; default this process's, without `ELECTRON_RUN_AS_NODE`. */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * Starts the agent server in an Electron utility process (`utilityProcess.fork`): a Node.js
 * process that Chromium launches from the app's own binary without `ELECTRON_RUN_AS_NODE`,
 * which the packaged app's RunAsNode fuse disables. The server sees its arguments as
 * `process.argv.slice(2)` as under Node, prints its ready line on the piped stdout, and spawns
 * its agents with `child_process` as before.
 *
 * Stopping: `terminate()` is `UtilityProcess.kill()` (SIGTERM on POSIX, so the server stops its
 * agents; TerminateProcess on Windows). `kill()` sends SIGKILL to the pid on POSIX.
 */
export function utilityServerLauncher(options: UtilityServerOptions): ServerLauncher {
  return (args) => {
    const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
    // It would make a child of an unfused (development) Electron run as plain Node instead.
    delete env.ELECTRON_RUN_AS_NODE;
    const child = utilityProcess.fork(options.entry, [...args], {
      cwd: options.cwd,
      env,
      stdio: 'pipe',
      serviceName: SERVER_SERVICE_NAME,
    });
    // Electron clears `pid` once the process has exited; keep the one it ran as.
    let pid = child.pid;
    child.once('spawn', () => {
      pid = child.pid;
    });
    let fatal: string | undefined;
    child.on('error', (type, location) => {
      fatal = `${type} at ${location}`;
    });
    const exited = new Promise<ServerExit>((resolve) => {
      child.once('exit', (code) => {
        resolve({ code, signal: null, ...(fatal === undefined ? {} : { error: fatal }) });
      });
    });
    return {
      get pid() {
        return pid;
      },
      stdout: child.stdout,
      stderr: child.stderr,
      exited,
      terminate: () => {
        child.kill();
      },
      kill: () => {
        if (pid === undefined || process.platform === 'win32') {
          child.kill();
          return;
        }
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone: its exit event settles `exited`.
        }
      },
    };
  };
}
