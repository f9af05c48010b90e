// The only program the fuzzed server may start (backend `fuzz`; the task is ignored, so a
// mutated spawn request can never run anything else). It prints a few lines on both streams,
// answers forwarded custom actions (docs/PROTOCOL.md §4.2) with their params, and exits after 2 s so
// agents do not pile up.
import process from 'node:process';
import { createInterface } from 'node:readline';
import { setTimeout } from 'node:timers';

for (let i = 0; i < 5; i++) {
  process.stdout.write(`line ${i}\n`);
  process.stderr.write(`ERROR line ${i}\n`);
}
createInterface({ input: process.stdin }).on('line', (line) => {
  let msg;
  try {
    msg = JSON.parse(line);
  } catch {
    return;
  }
  if (msg && msg.type === 'action') {
    process.stdout.write(
      `${JSON.stringify({ type: 'action_result', id: msg.id, ok: true, result: msg.params ?? null, error: null })}\n`,
    );
  }
});
setTimeout(() => process.exit(0), 2000);
