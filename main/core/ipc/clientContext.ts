import type { ConsoleEventEnvelope } from '../../../shared/ipc';

/**
 * One connected renderer: an Electron window (its webContents) or a browser host WebSocket.
 * Subscriptions made through it are released when it closes.
 */
export interface ClientContext {
  /** Stable for the life of the connection; unique among live clients. */
  readonly id: string;
  /**
   * Delivers one batch of events (already coalesced by the handlers, at most ~20 per second).
   * Must not throw; a client that is gone drops the batch.
   */
  push(envelopes: ConsoleEventEnvelope[]): void;
  /** Registers `fn` to run once when the client goes away (window closed, socket closed). */
  onClose(fn: () => void): void;
}
