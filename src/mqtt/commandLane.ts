import type { Logger } from '../logger.js';
import type { MessageHandler, SubscribeOptions } from './subscriptions.js';

/** The two connections, as the lane sees them (both are MqttConnection; this avoids an import cycle). */
export interface LaneConnection {
  subscribe(filter: string, handler: MessageHandler, opts?: SubscribeOptions): Promise<() => Promise<void>>;
}
export interface Receiver extends LaneConnection {
  readonly connected: boolean;
  start(): Promise<void>;
  stop(): Promise<void>;
  on(event: 'refused', listener: (reason: string) => void): unknown;
}

interface LaneEntry {
  readonly filter: string;
  readonly handler: MessageHandler;
  readonly opts: SubscribeOptions;
  unsubscribe: (() => Promise<void>) | undefined;
  removed: boolean;
  /** Called once the entry is subscribed on one of the connections. */
  place: () => void;
}

/**
 * Commands arrive on a second, receive-only connection (`<client id>_cmd`). A stock mosquitto
 * keeps Nagle's algorithm on, so on one shared connection the next `set` waits in the broker's
 * send queue behind its PUBACK to our last state publish until our kernel's delayed ACK (up to
 * 40 ms); nothing on our side of one socket can hurry that ACK (Node has no TCP_QUICKACK). On a
 * connection where the broker only ever sends commands, each PUBLISH is answered by our PUBACK
 * at once, so nothing waits. A broker that will not take a second client (ACL on client ids,
 * connection limits) gets everything on the main connection, as before.
 */
export class CommandLane {
  readonly #entries = new Set<LaneEntry>();
  readonly #log: Logger;
  #receiver: Receiver | undefined;
  #onMain = false;
  #stopped = false;

  constructor(
    private readonly main: LaneConnection,
    private readonly makeReceiver: () => Receiver,
    logger: Logger,
  ) {
    this.#log = logger;
  }

  /** True while commands arrive on the second connection (or will, once it is open). */
  get separate(): boolean {
    return !this.#onMain;
  }

  /** False while commands should arrive on the second connection and it is down. */
  get receiverUp(): boolean {
    return this.#onMain || (this.#receiver?.connected ?? false);
  }

  /** The main connection is up for the first time: open the receiver and move the lane's subscriptions onto it. */
  open(): void {
    if (this.#receiver || this.#onMain || this.#stopped) return;
    const receiver = this.makeReceiver();
    this.#receiver = receiver;
    receiver.on('refused', (reason) => void this.#fallBack(reason));
    void receiver.start();
    for (const entry of this.#entries) void this.#placeOn(receiver, entry);
  }

  async subscribe(filter: string, handler: MessageHandler, opts: SubscribeOptions): Promise<() => Promise<void>> {
    let place = (): void => undefined;
    const placed = new Promise<void>((resolve) => (place = resolve));
    const entry: LaneEntry = { filter, handler, opts, unsubscribe: undefined, removed: false, place };
    this.#entries.add(entry);
    if (this.#onMain) void this.#placeOn(this.main, entry);
    else if (this.#receiver) void this.#placeOn(this.#receiver, entry);
    await placed;
    return async () => {
      if (entry.removed) return;
      entry.removed = true;
      this.#entries.delete(entry);
      await entry.unsubscribe?.();
    };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#receiver?.stop();
  }

  async #placeOn(connection: LaneConnection, entry: LaneEntry): Promise<void> {
    const { lane: _lane, ...opts } = entry.opts;
    const unsubscribe = await connection.subscribe(entry.filter, entry.handler, opts);
    const current = this.#onMain ? this.main : this.#receiver;
    // Moved to the other connection (or unsubscribed) while this SUBACK was on its way.
    if (entry.removed || connection !== current) {
      await unsubscribe();
      return;
    }
    entry.unsubscribe = unsubscribe;
    entry.place();
  }

  async #fallBack(reason: string): Promise<void> {
    if (this.#onMain || this.#stopped) return;
    this.#onMain = true;
    this.#log.warn({ reason }, 'MQTT broker refused the second (command) connection; receiving commands on the main connection');
    const receiver = this.#receiver;
    for (const entry of this.#entries) {
      entry.unsubscribe = undefined;
      void this.#placeOn(this.main, entry);
    }
    await receiver?.stop();
  }
}
