import { describe, expect, it } from 'vitest';
import { findFreePortPair } from '../../../main/embeddedServer';
import { isPortFree } from '../../helpers/ports';

describe('findFreePortPair', () => {
  it('refuses a first port above 32766 with what to choose instead', async () => {
    await expect(findFreePortPair(33020)).rejects.toThrow(
      'the first port to try (33020, e.g. from DESCARTES_EMBEDDED_PORT) is above 32766: the local agent server ' +
        'keeps below the ports the system hands out for outgoing connections; choose one from 1024 to 32766',
    );
  });

  it('finds two free neighbouring ports from the first one asked', async () => {
    const port = await findFreePortPair(32700);
    expect(port).toBeGreaterThanOrEqual(32700);
    expect(port + 1).toBeLessThanOrEqual(32767);
    expect(await isPortFree(port)).toBe(true);
    expect(await isPortFree(port + 1)).toBe(true);
  });
});
