import type { ServerProfile, ServerProfileInput, ServerStatus } from '../../../shared/domain/server';
import type { CurveKeyPair } from '../../../shared/node/curveKeyPair';
import type { CommandQueue } from '../queue/commandQueue';
import { Dispatcher } from '../queue/dispatcher';
import { Connection, type ConnectionSnapshot } from '../transport/connection';
import type { CurveClient } from '../transport/curveClient';
import { routablePubEndpoint } from '../transport/endpoints';
import { EventSubscriber } from '../transport/eventSubscriber';
import { ProfileError, type ProfileStore } from './profileStore';
import { ListenerSet } from '../listenerSet';

/** Everything the console holds for one server. */
export interface ServerSession {
  readonly profile: ServerProfile;
  readonly connection: Connection;
  readonly events: EventSubscriber;
  readonly dispatcher: Dispatcher;
}

export interface ServerRegistryOptions {
  profiles: ProfileStore;
  queue: CommandQueue;
  /** This console's key pair, for every server whose profile pins a server key. */
  clientKeyPair: CurveKeyPair;
  /** In-flight window per server; default 16. */
  window?: number;
  /** Default request timeout, ms; default 30 000. */
  requestTimeoutMs?: number;
}

/**
 * The servers the console talks to, several at once: one Connection, one EventSubscriber and
 * one Dispatcher per profile. Adding, editing and removing a profile persists it and rewires
 * its session. Callers must {@link dispose} it.
 */
export class ServerRegistry {
  private readonly sessions = new Map<string, ServerSession>();
  private readonly unsubscribe = new Map<string, (() => void)[]>();
  private readonly listeners = new ListenerSet<ServerStatus>((error) => {
    // Reported, not thrown: the other status listeners still hear the change.
    console.error('server registry: a status listener failed', error);
  });
  private readonly stopQueueWatch: () => void;

  constructor(private readonly options: ServerRegistryOptions) {
    for (const profile of options.profiles.list()) this.open(profile);
    this.stopQueueWatch = options.queue.onChange((change) => {
      // Pending counts are part of the status the UI shows.
      const session = this.sessions.get(change.command.serverId);
      if (session) this.emit(session);
    });
  }

  list(): ServerProfile[] {
    return [...this.sessions.values()].map((s) => s.profile);
  }

  /** @throws ProfileError('not_found') */
  session(serverId: string): ServerSession {
    const s = this.sessions.get(serverId);
    if (!s) throw new ProfileError('not_found', `no server with id ${serverId}; add it first`);
    return s;
  }

  has(serverId: string): boolean {
    return this.sessions.has(serverId);
  }

  /** Adds a server and starts talking to it. @throws ProfileError */
  add(input: ServerProfileInput, embedded = false): ServerProfile {
    const profile = this.options.profiles.add(input, embedded);
    this.open(profile);
    return profile;
  }

  /**
   * Edits a server; it reconnects with the new settings (endpoint, heartbeat, pinned key or
   * plain). Queued commands stay. @throws ProfileError
   */
  update(serverId: string, input: ServerProfileInput): ServerProfile {
    this.session(serverId);
    const profile = this.options.profiles.update(serverId, input);
    void this.close(serverId);
    this.open(profile);
    return profile;
  }

  /**
   * Removes a server. Refused while it has pending commands unless `cancelPending`, which
   * cancels them first (they stay in the history).
   * @throws ProfileError('not_found' | 'invalid')
   */
  remove(serverId: string, cancelPending = false): void {
    this.session(serverId);
    const pending = this.options.queue.list(serverId, ['queued']);
    const inFlight = this.options.queue.pendingCount(serverId) - pending.length;
    if (!cancelPending && pending.length + inFlight > 0) {
      throw new ProfileError(
        'invalid',
        `server has ${pending.length + inFlight} pending command(s); cancel them or remove with cancelPending`,
      );
    }
    for (const c of pending) this.options.queue.cancel(c.id, 'server removed by the operator');
    void this.close(serverId);
    this.options.profiles.remove(serverId);
  }

  /** The live status of one server. @throws ProfileError('not_found') */
  status(serverId: string): ServerStatus {
    return this.statusOf(this.session(serverId));
  }

  statuses(): ServerStatus[] {
    return [...this.sessions.values()].map((s) => this.statusOf(s));
  }

  /** Every status change of every server (state, last heard, pending count). Returns an unsubscribe. */
  onStatus(listener: (s: ServerStatus) => void): () => void {
    return this.listeners.add(listener);
  }

  /** Closes every session: sockets closed, waiting requests abandoned (their commands recover at next start). */
  async dispose(lingerMs = 0): Promise<void> {
    this.stopQueueWatch();
    await Promise.all([...this.sessions.keys()].map((id) => this.close(id, lingerMs)));
    this.listeners.clear();
  }

  private open(profile: ServerProfile): void {
    const curve: CurveClient | null =
      profile.security.mode === 'curve'
        ? { serverKey: profile.security.serverKey, keyPair: this.options.clientKeyPair }
        : null;
    const connection = new Connection({
      endpoint: profile.endpoint,
      curve,
      ...(profile.heartbeatIntervalMs === null ? {} : { heartbeatIntervalMs: profile.heartbeatIntervalMs }),
      ...(this.options.requestTimeoutMs === undefined
        ? {}
        : { requestTimeoutMs: this.options.requestTimeoutMs }),
    });
    const events = new EventSubscriber({ curve });
    const dispatcher = new Dispatcher({
      serverId: profile.id,
      queue: this.options.queue,
      connection,
      ...(this.options.window === undefined ? {} : { window: this.options.window }),
      ...(this.options.requestTimeoutMs === undefined
        ? {}
        : { defaultTimeoutMs: this.options.requestTimeoutMs }),
    });
    const session: ServerSession = { profile, connection, events, dispatcher };
    this.sessions.set(profile.id, session);
    this.unsubscribe.set(profile.id, [
      connection.onChange((snap) => {
        this.follow(session, snap);
        this.emit(session);
      }),
      events.onStatus((u) => {
        if (u.update_type === 'heartbeat') connection.noteAlive();
      }),
      events.onHandshakeProblem(() => {
        this.emit(session);
      }),
    ]);
    connection.start();
  }

  /** Subscribes to wherever the server says it publishes. */
  private follow(session: ServerSession, snap: ConnectionSnapshot): void {
    const advertised = snap.info?.advertisedPubEndpoint ?? null;
    const pub = routablePubEndpoint(advertised, session.profile.endpoint);
    if (pub !== null && pub !== session.events.connectedTo) session.events.connect(pub);
  }

  private async close(serverId: string, lingerMs = 0): Promise<void> {
    const s = this.sessions.get(serverId);
    if (!s) return;
    this.sessions.delete(serverId);
    for (const u of this.unsubscribe.get(serverId) ?? []) u();
    this.unsubscribe.delete(serverId);
    s.dispatcher.dispose();
    s.events.close();
    await s.connection.close(lingerMs);
  }

  private statusOf(s: ServerSession): ServerStatus {
    const snap = s.connection.snapshot();
    return {
      serverId: s.profile.id,
      state: snap.state,
      lastHeardAt: snap.lastHeardAt,
      lastError: snap.lastError,
      remoteServerId: snap.info?.serverId ?? null,
      capabilities: [...(snap.info?.capabilities ?? [])],
      backends: snap.info?.backends ?? null,
      legacy: snap.info?.legacy ?? false,
      activeAgents: snap.info?.activeAgents ?? null,
      pubEndpoint: s.events.connectedTo,
      pendingCommands: this.options.queue.pendingCount(s.profile.id),
      nextAttemptAt: snap.nextAttemptAt,
      // The command socket's refusal first: it is what keeps commands from being delivered.
      handshakeProblem: snap.handshakeProblem ?? s.events.handshakeProblem,
    };
  }

  private emit(s: ServerSession): void {
    if (this.listeners.size === 0) return;
    this.listeners.emit(this.statusOf(s));
  }
}
