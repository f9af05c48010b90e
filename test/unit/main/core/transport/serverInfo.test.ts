import { describe, expect, it } from 'vitest';
import { serverInfoFromHealth } from '../../../../../main/core/transport/serverInfo';
import type { HealthCheckResponse } from '../../../../../shared/protocol';

const reply = (metadata?: Record<string, string>): HealthCheckResponse => ({
  type: 'health_check_response',
  request_id: '00000000-0000-4000-8000-000000000001',
  healthy: true,
  protocol_version: '1.0.0',
  ...(metadata === undefined ? {} : { metadata }),
});

describe('serverInfoFromHealth', () => {
  it('reads the advertised backends in order, <program>-cli included (docs/PROTOCOL.md §4.7)', () => {
    const info = serverInfoFromHealth(
      reply({ capabilities: 'batch', backends: 'claude, shell,,<program>-cli' }),
    );
    expect(info.backends).toEqual(['claude', 'shell', '<program>-cli']);
    expect([...info.capabilities]).toEqual(['batch']);
  });

  it('has no backends for a server that does not say (a Rust 1.0.0 server)', () => {
    expect(serverInfoFromHealth(reply()).backends).toBeNull();
    expect(serverInfoFromHealth(reply({ capabilities: 'batch' })).backends).toBeNull();
  });
});
