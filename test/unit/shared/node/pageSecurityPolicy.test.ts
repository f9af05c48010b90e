import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pageSecurityPolicy } from '../../../../shared/node/pageSecurityPolicy';
import { parseCsp } from '../../../helpers/csp';

describe('pageSecurityPolicy', () => {
  it('allows only the page origin for code, and no inline <style> or eval', () => {
    const csp = parseCsp(pageSecurityPolicy());
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(pageSecurityPolicy()).not.toContain('unsafe-eval');
  });

  it("adds a host's WebSocket origins and, for the dev server only, inline style tags", () => {
    const csp = parseCsp(pageSecurityPolicy({ webSockets: ['ws://127.0.0.1:5173'], inlineStyleTags: true }));
    expect(csp.get('connect-src')).toEqual(["'self'", 'ws://127.0.0.1:5173']);
    expect(csp.get('style-src')).toEqual(["'self'", "'unsafe-inline'"]);
  });

  it('is the only policy: the renderer HTML carries no policy of its own to drift', () => {
    const html = readFileSync(join(import.meta.dirname, '../../../../renderer/index.html'), 'utf8');
    expect(html.toLowerCase()).not.toContain('content-security-policy');
  });
});
