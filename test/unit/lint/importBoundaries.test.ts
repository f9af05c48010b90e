import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

/**
 * The layering of docs/ARCHITECTURE.md §1 is enforced by `no-restricted-imports` in
 * eslint.config.js. These cases lint probe sources as if they lived at a given path, so a
 * config change that silently drops a boundary fails here.
 */
const eslint = new ESLint({
  // Type information is irrelevant to import rules and the probe files do not exist on disk.
  overrideConfig: [{ ...tseslint.configs.disableTypeChecked, files: ['**/*.ts', '**/*.vue'] }],
});

async function restricted(filePath: string, source: string): Promise<string[]> {
  const [res] = await eslint.lintText(source, { filePath });
  return (res?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { from: string; imports: string; allowed: boolean }[] = [
  { from: 'shared/protocol/x.ts', imports: 'node:fs', allowed: false },
  { from: 'shared/protocol/x.ts', imports: 'zeromq', allowed: false },
  { from: 'shared/protocol/x.ts', imports: '../../main/core/queue/commandQueue', allowed: false },
  { from: 'shared/protocol/x.ts', imports: '../../server/agentServer', allowed: false },
  { from: 'shared/protocol/x.ts', imports: '../domain/command', allowed: true },
  { from: 'shared/protocol/x.ts', imports: '../domain/server', allowed: true },
  { from: 'main/core/services/x.ts', imports: '../../../shared/domain/server', allowed: true },
  { from: 'main/core/services/x.ts', imports: '../../../server/agentServer', allowed: false },
  { from: 'main/core/x.ts', imports: '../electron/window', allowed: false },
  { from: 'main/core/x.ts', imports: 'electron', allowed: false },
  { from: 'main/core/x.ts', imports: '../../server/agentServer', allowed: false },
  { from: 'main/core/x.ts', imports: 'zeromq', allowed: true },
  { from: 'main/core/x.ts', imports: '../../shared/protocol', allowed: true },
  { from: 'main/electron/x.ts', imports: '../../server/lineStore', allowed: false },
  { from: 'main/electron/x.ts', imports: 'electron', allowed: true },
  { from: 'server/x.ts', imports: '../main/core/queue/commandQueue', allowed: false },
  { from: 'server/x.ts', imports: 'electron', allowed: false },
  { from: 'server/x.ts', imports: '../shared/protocol', allowed: true },
  { from: 'preload/x.ts', imports: '../main/core/services/x', allowed: false },
  { from: 'renderer/src/x.ts', imports: 'node:path', allowed: false },
  { from: 'renderer/src/x.ts', imports: '../../main/core/x', allowed: false },
  { from: 'renderer/src/x.ts', imports: '../../shared/ipc', allowed: true },
  { from: 'renderer/src/x.ts', imports: '../../shared/node/curveKeyPair', allowed: false },
  { from: 'preload/x.ts', imports: '../shared/node/curveKeyPair', allowed: false },
  { from: 'shared/domain/x.ts', imports: '../node/curveKeyPair', allowed: false },
  { from: 'shared/node/x.ts', imports: 'node:crypto', allowed: true },
  { from: 'shared/node/x.ts', imports: '../domain/curveKey', allowed: true },
  { from: 'shared/node/x.ts', imports: '../../server/agentServer', allowed: false },
  { from: 'shared/node/x.ts', imports: '../../main/core/x', allowed: false },
  { from: 'shared/node/x.ts', imports: '../protocol', allowed: true },
  { from: 'shared/node/x.ts', imports: 'electron', allowed: false },
  { from: 'shared/node/x.ts', imports: '../../renderer/src/api', allowed: false },
  { from: 'shared/node/x.ts', imports: '../../preload/index', allowed: false },
  { from: 'shared/protocol/x.ts', imports: '../node/serialSender', allowed: false },
  { from: 'shared/protocol/codec/x.ts', imports: '../../node/pidLock', allowed: false },
  { from: 'server/x.ts', imports: '../shared/node/curveKeyPair', allowed: true },
  { from: 'server/security/x.ts', imports: '../../shared/node/serialSender', allowed: true },
  { from: 'main/core/security/x.ts', imports: '../../../shared/node/curveKeyPair', allowed: true },
  { from: 'main/core/queue/x.ts', imports: '../../../shared/node/pidLock', allowed: true },
  { from: 'renderer/src/stores/x.ts', imports: '../../../shared/node/serialSender', allowed: false },
];

describe('import boundaries (docs/ARCHITECTURE.md §1)', () => {
  it.each(cases)('$from importing $imports is allowed: $allowed', async ({ from, imports, allowed }) => {
    const messages = await restricted(
      from,
      `import * as probe from '${imports}';\nexport const p = probe;\n`,
    );
    if (allowed) expect(messages).toEqual([]);
    else expect(messages.join('\n')).toMatch(/restricted/);
  });

  it('a Vue component may not import shared/node either', async () => {
    const [res] = await eslint.lintText(
      `<script setup lang="ts">\nimport { isProcessAlive } from '../../../shared/node/processAlive';\nisProcessAlive(1);\n</script>\n`,
      { filePath: 'renderer/src/components/Probe.vue' },
    );
    const messages = (res?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports');
    expect(messages.map((m) => m.message).join('\n')).toMatch(/restricted/);
  });
});
