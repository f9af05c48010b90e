import { describe, expect, it } from 'vitest';
import { stderrLine } from '../../../../main/cli/stderrLine';

describe('stderrLine', () => {
  it('keeps a plain line (tabs and non-ASCII text included) as it is, with one newline', () => {
    expect(stderrLine('ctl: spawn failed: no such backend\n')).toBe('ctl: spawn failed: no such backend\n');
    expect(stderrLine('a\tb — café 日本')).toBe('a\tb — café 日本\n');
  });

  it('joins line breaks (and carriage returns) with " | ", so a quoted text cannot draw a line of its own', () => {
    expect(stderrLine('first\r\nctl: all good\n\n')).toBe('first | ctl: all good\n');
    expect(stderrLine('overwrite\rctl: ok\n')).toBe('overwrite | ctl: ok\n');
    expect(stderrLine('a windows line\r\n')).toBe('a windows line\n');
  });

  it('shows escape sequences, DEL, C1 and bidi overrides escaped instead of letting the terminal act on them', () => {
    expect(stderrLine('\u001b]0;pwned\u0007\u001b[2J\n')).toBe('\\u001b]0;pwned\\u0007\\u001b[2J\n');
    expect(stderrLine('x\u007fy\u009bz\u202eevil\u2066')).toBe('x\\u007fy\\u009bz\\u202eevil\\u2066\n');
  });
});
