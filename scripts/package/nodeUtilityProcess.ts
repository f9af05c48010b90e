/**
 * A stand-in for Electron's `UtilityProcess` that runs the script for real, in a Node child
 * process: used by `check:package`'s stand-in Electron (the packed app runs under plain Node
 * there) and by the unit tests' Electron stand-in, so both mimic Electron the same way.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';

/** What Electron's `stdio` option may say for a stream. */
export type StdioMode = 'pipe' | 'ignore' | 'inherit';

/** The `utilityProcess.fork` options the stand-ins understand. */
export interface NodeForkOptions {
  env?: NodeJS.ProcessEnv;
  execArgv?: string[];
  cwd?: string;
  stdio?: StdioMode | StdioMode[];
  serviceName?: string;
}

/**
 * Mimics Electron's `UtilityProcess`: `pid` is undefined until `spawn` and after `exit`; `exit`
 * carries a code only, after the output streams have ended (0 after our own `kill()`, the
 * signal number after a signal from elsewhere, as Electron reports waitpid's); `kill()` is
 * SIGTERM; stdin is ignored and stdout/stderr are pipe, ignore or inherit (default inherit).
 */
export class NodeUtilityProcess extends EventEmitter {
  pid: number | undefined = undefined;
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  private readonly child: ChildProcess;
  private killed = false;
  constructor(
    readonly modulePath: string,
    readonly args: string[],
    readonly options: NodeForkOptions,
  ) {
    super();
    const stdio = options.stdio ?? 'inherit';
    const [, out = 'inherit', err = 'inherit'] = typeof stdio === 'string' ? ['ignore', stdio, stdio] : stdio;
    this.child = spawn(process.execPath, [...(options.execArgv ?? []), modulePath, ...args], {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', out, err],
    });
    this.stdout = this.child.stdout;
    this.stderr = this.child.stderr;
    this.child.once('spawn', () => {
      this.pid = this.child.pid;
      this.emit('spawn');
    });
    this.child.once('close', (code, signal) => {
      this.pid = undefined;
      const signalled = signal === null ? 0 : constants.signals[signal];
      this.emit(
        'exit',
        code ?? (this.killed && (signal === 'SIGTERM' || signal === 'SIGKILL') ? 0 : signalled),
      );
      this.stdout = null;
      this.stderr = null;
    });
  }

  kill(): boolean {
    if (this.pid === undefined) return false;
    this.killed = this.child.kill('SIGTERM');
    return this.killed;
  }
}
