/**
 * Listeners that cannot break the loop that calls them. The connection and the event subscriber
 * call their listeners from a socket's receive loop and the dispatcher from its pump: an
 * exception there would skip the listeners after the thrower and the rest of the work of that
 * turn (announcing the other settled commands, resending a timed-out one), or end the loop.
 * The command queue uses it for its change listeners, whose callers are its own transactions.
 */

/** Calls `call` on each listener; one that throws is reported to `onError` and the rest still run. */
export function notifyEach<L>(
  listeners: Iterable<L>,
  call: (listener: L) => void,
  onError: (error: unknown) => void,
): void {
  for (const listener of listeners) {
    try {
      call(listener);
    } catch (error) {
      onError(error);
    }
  }
}

/** A set of listeners of one kind of event, each called in turn and isolated from the others. */
export class ListenerSet<T> {
  private readonly listeners = new Set<(value: T) => void>();

  /** @param onError receives what a listener threw (must not throw itself) */
  constructor(private readonly onError: (error: unknown) => void) {}

  /** Adds `listener`. @returns a function that removes it */
  add(listener: (value: T) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Calls every listener with `value`; one that throws goes to `onError` and the rest still run. */
  emit(value: T): void {
    notifyEach(
      this.listeners,
      (listener) => {
        listener(value);
      },
      this.onError,
    );
  }

  /** How many listeners there are: lets a caller skip building a value nobody hears. */
  get size(): number {
    return this.listeners.size;
  }

  /** Drops every listener. */
  clear(): void {
    this.listeners.clear();
  }
}
