/**
 * `npm run ctl -- <command> …`: the scripting client (see ctlUsage.ts, or run with --help).
 */
import { defaultDataDir } from '../core/dataDir';
import { runCtl } from './runCtl';

const code = await runCtl(
  process.argv.slice(2),
  {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  },
  { server: process.env.DESCARTES_SERVER, dataDir: defaultDataDir() },
);
process.exitCode = code;
// Everything is closed by now; a stray timer of a library must not keep a script waiting.
setTimeout(() => process.exit(code), 2000).unref();
