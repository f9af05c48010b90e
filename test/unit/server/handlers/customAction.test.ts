import { describe, expect, it } from 'vitest';
import { redactEnv } from '../../../../server/handlers/customAction';

describe('redactEnv', () => {
  it('hides values of secret-looking names and keeps the rest, names sorted', () => {
    expect(
      redactEnv({ PATH: '/bin', GITHUB_TOKEN: 't', api_key: 'k', DB_PASSWORD: 'p', HOME: '/h' }),
    ).toEqual({
      DB_PASSWORD: '<redacted>',
      GITHUB_TOKEN: '<redacted>',
      HOME: '/h',
      PATH: '/bin',
      api_key: '<redacted>',
    });
  });
});
