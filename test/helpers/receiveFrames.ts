/**
 * Feeds every message of a zeromq socket to `onFrames` until the socket closes. The returned
 * promise never rejects: a receive error is recorded in `violations` as `<what>: <error>`
 * (a test fails on those) unless `closedByUs()` says the owner closed the socket, which ends
 * the iteration with an error too.
 */
export async function receiveFrames(
  socket: AsyncIterable<Buffer[]>,
  onFrames: (frames: Buffer[]) => void,
  violations: string[],
  closedByUs: () => boolean,
  what = 'receive loop ended',
): Promise<void> {
  try {
    for await (const frames of socket) onFrames(frames);
  } catch (error) {
    if (!closedByUs()) violations.push(`${what}: ${String(error)}`);
  }
}
