import { describe, expect, it } from 'vitest';
import { defaultStateDir } from '../../../server/stateDir';

describe('defaultStateDir', () => {
  it('follows each platform convention', () => {
    expect(defaultStateDir({}, 'linux', '/home/u')).toBe('/home/u/.local/state/descartes-server');
    expect(defaultStateDir({ XDG_STATE_HOME: '/xdg' }, 'linux', '/home/u')).toBe('/xdg/descartes-server');
    // A relative XDG path is ignored, as the XDG spec says.
    expect(defaultStateDir({ XDG_STATE_HOME: 'rel' }, 'linux', '/home/u')).toBe(
      '/home/u/.local/state/descartes-server',
    );
    expect(defaultStateDir({}, 'darwin', '/Users/u')).toBe(
      '/Users/u/Library/Application Support/descartes-server',
    );
    expect(defaultStateDir({ LOCALAPPDATA: 'C:/Users/u/AppData/Local' }, 'win32', 'C:/Users/u')).toMatch(
      /^C:\/Users\/u\/AppData\/Local[\\/]descartes-server$/,
    );
  });
});
