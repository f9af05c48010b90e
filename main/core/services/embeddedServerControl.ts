/**
 * What the handlers may ask of the host's embedded agent server (the host owns the process:
 * a Node child under the browser host, a utility process under Electron; `main/embeddedServerKeeper.ts`).
 */
export interface EmbeddedServerControl {
  /** The profile id of the embedded server, or null when the console has none. */
  readonly profileId: string | null;
  /**
   * Starts the embedded server again with the same ports, keys, allow list and state dir, and
   * reconnects to it at once. Resolves when its process is ready (the connection then turns
   * online by its first health reply).
   * @throws EmbeddedRestartError ('busy' while it runs or starts; 'failed' when it cannot start)
   */
  restart(): Promise<void>;
}

/**
 * Why a restart of the embedded server was refused or failed; the message says what to do.
 * `busy`: it is running or already starting. `failed`: it could not start (the reason follows).
 */
export class EmbeddedRestartError extends Error {
  override readonly name = 'EmbeddedRestartError';
  constructor(
    readonly code: 'busy' | 'failed',
    message: string,
  ) {
    super(message);
  }
}
