/**
 * Feeds every message of a zeromq socket to `onFrames` until the socket closes. The returned
 * promise never rejects: a receive error goes to `onFailure`, where a test client records it
 * as a violation unless it closed the socket itself (closing ends the iteration with an error).
 */
export async function receiveFrames(
  socket: AsyncIterable<Buffer[]>,
  onFrames: (frames: Buffer[]) => void,
  onFailure: (error: unknown) => void,
): Promise<void> {
  try {
    for await (const frames of socket) onFrames(frames);
  } catch (error) {
    onFailure(error);
  }
}
