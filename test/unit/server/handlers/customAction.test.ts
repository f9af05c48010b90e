import { describe, expect, it } from 'vitest';
import { envReport, redactEnv } from '../../../../server/handlers/customAction';

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

describe('envReport (the get_env answer)', () => {
  const env = { PATH: '/bin', GITHUB_TOKEN: 't', HOME: '/h' };

  it('names only, sorted, by default', () => {
    expect(envReport(env, false)).toEqual({ names: ['GITHUB_TOKEN', 'HOME', 'PATH'], values: null });
  });

  it('values too when exposed, secret-looking ones still redacted', () => {
    expect(envReport(env, true)).toEqual({
      names: ['GITHUB_TOKEN', 'HOME', 'PATH'],
      values: { GITHUB_TOKEN: '<redacted>', HOME: '/h', PATH: '/bin' },
    });
  });
});
