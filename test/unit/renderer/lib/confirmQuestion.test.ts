import { describe, expect, it } from 'vitest';
import { confirmQuestion } from '../../../../renderer/src/lib/confirmQuestion';

const named = (count: number, serverName?: string) =>
  Array.from({ length: count }, (_, i) => ({
    id: `id-${i}`,
    name: `build-${i + 1}`,
    ...(serverName === undefined ? {} : { serverName }),
  }));

describe('confirmQuestion', () => {
  it('names the command, the count and the first three agents', () => {
    expect(confirmQuestion({ command: 'kill', targets: named(12) })).toMatchObject({
      question: 'Kill 12 agents: build-1, build-2, build-3 and 9 more?',
      confirmLabel: 'Kill 12 agents',
    });
    expect(confirmQuestion({ command: 'stop', targets: named(3) }).question).toBe(
      'Stop 3 agents: build-1, build-2 and build-3?',
    );
    expect(confirmQuestion({ command: 'stop', targets: named(1) })).toMatchObject({
      question: 'Stop agent build-1?',
      confirmLabel: 'Stop agent',
    });
  });

  it('names the servers when the targets span several', () => {
    const targets = [...named(2, 'farm-a'), { id: 'x', name: 'build-9', serverName: 'farm-b' }];
    expect(confirmQuestion({ command: 'kill', targets }).question).toBe(
      'Kill 3 agents on 2 servers: build-1 (farm-a), build-2 (farm-a) and build-9 (farm-b)?',
    );
    // One server: its name adds nothing.
    expect(confirmQuestion({ command: 'kill', targets: named(2, 'farm-a') }).question).toBe(
      'Kill 2 agents: build-1 and build-2?',
    );
  });

  it('says what each command does to the agents', () => {
    expect(confirmQuestion({ command: 'stop', targets: named(1) }).effect).toMatch(
      /SIGTERM.*clean up, then it ends/,
    );
    expect(confirmQuestion({ command: 'kill', targets: named(1) }).effect).toMatch(
      /SIGKILL.*no chance to clean up/,
    );
  });
});
