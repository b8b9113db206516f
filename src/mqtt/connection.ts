import { EventEmitter } from 'node:events';
import { readFile } from 'node:fs/promises';
import { Socket } from 'node:net';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IClientSubscribeOptions, type IConnackPacket, type IPublishPacket, type MqttClient } from 'mqtt';
import { SubscriptionTable, mergedOptions, toIncomingMessage, optionsKey, type FilterGroup, type IncomingMessage, type MessageHandler, type SubscribeOptions } from './subscriptions.js';
import { isValidTopicFilter, isValidTopicName } from './topicMatch.js';
import { CommandLane } from './commandLane.js';
import { ResponseTopicGuard } from './responseTopics.js';
import { topics } from '../api/types.js';
import type { Logger } from '../logger.js';
import { urlForDisplay } from '../urlForDisplay.js';
import { transportCode, type MqttConnectionEvents, type MqttConnectionOptions, type Outgoing, type PublishOptions } from './types.js';

export type { IncomingMessage, IncomingMessage as MqttMessage, MessageHandler, SubscribeOptions } from './subscriptions.js';
export type { MqttConnectionEvents, MqttConnectionOptions, PublishOptions, PublishProperties } from './types.js';
export { topicMatches } from './topicMatch.js';

const WARN_EVERY_MS = 60_000;
const ONLINE = JSON.stringify({ state: 'online' });
const OFFLINE = JSON.stringify({ state: 'offline' });
/** A receive-only connection closed this often after CONNECT without a CONNACK is taken as refused. */
const REFUSED_AFTER_CLOSES = 3;

const NO_LOG = (): void => undefined;

/**
 * The bridge's MQTT connection: MQTT 5 with fallback to 3.1.1, last will and birth on
 * `<base>/bridge/state`, endless reconnect with backoff, newest-per-topic buffering while
 * disconnected, retained-state restore and resubscription after every (re)connect.
 */
export class MqttConnection extends EventEmitter<MqttConnectionEvents> {
  readonly #o: MqttConnectionOptions;
  readonly #log: Logger;
  readonly #stateTopic: string;
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #subs = new SubscriptionTable();
  readonly #retained = new Map<string, Outgoing>();
  readonly #pending = new Map<string, Outgoing>();
  #sequence = 0;
  readonly #inflight = new Set<() => void>();
  #tls: Pick<IClientOptions, 'ca' | 'cert' | 'key'> = {};
  #client: MqttClient | undefined;
  #version: 4 | 5;
  #versionLocked = false;
  #guessedFallback = false;
  #guessWarned = false;
  #gen = 0;
  #live = false;
  #connected = false;
  #started = false;
  #stopped = false;
  #idsAvailable = false;
  #attempt = { reached: false, connack: false, transportError: false };
  #closesWithoutConnack = 0;
  readonly #lane: CommandLane | undefined;
  readonly #responseTopics: ResponseTopicGuard;
  #lastWarnAt = 0;
  #dropped = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: MqttConnectionOptions) {
    super();
    this.#o = options;
    this.#log = options.logger.child({ module: 'mqtt' });
    this.#stateTopic = topics(options.baseTopic).bridgeState;
    this.#minMs = Math.max(1, options.reconnectMinMs ?? 1000);
    this.#maxMs = Math.max(this.#minMs, options.reconnectMaxMs ?? 5000);
    this.#version = options.protocolVersion ?? 5;
    this.#versionLocked = options.receiveOnly === true;
    this.setMaxListeners(100); // many waitForConnection() callers are fine
    this.#responseTopics = new ResponseTopicGuard(
      options.discoveryPrefix,
      (fields, message) => this.#log.warn(fields, message),
      options.baseTopic,
    );
    if (options.commandConnection && !options.receiveOnly) {
      this.#lane = new CommandLane(
        this,
        () =>
          new MqttConnection({
            ...options,
            clientId: `${options.clientId}_cmd`,
            protocolVersion: this.#version,
            commandConnection: false,
            receiveOnly: true,
            logger: options.logger.child({ connection: 'commands' }),
          }),
        this.#log,
      );
    }
  }

  get protocolVersion(): 4 | 5 {
    return this.#version;
  }
  get mqtt5(): boolean {
    return this.#version === 5;
  }
  /** True once `connected` was emitted, until the connection drops. */
  get connected(): boolean {
    return this.#connected;
  }
  /** The current mqtt.js client (diagnostics and fault-injection tests only). */
  get client(): MqttClient | undefined {
    return this.#client;
  }
  /** True while commands arrive on their own connection (MQTT_COMMAND_CONNECTION, and the broker took it). */
  get separateCommandConnection(): boolean {
    return this.#lane?.separate ?? false;
  }
  /** Connected, and the commands' connection too (it can be down while the main one is up). */
  get commandsConnected(): boolean {
    return this.#connected && (this.#lane?.receiverUp ?? true);
  }
  /** Messages waiting for the broker (distinct topics). */
  get bufferedCount(): number {
    return this.#pending.size;
  }

  /** Starts connecting and returns at once; a broker that is not up yet is retried forever. */
  async start(): Promise<void> {
    if (this.#started || this.#stopped) return;
    this.#started = true;
    const o = this.#o;
    const load = async (inline: string | Buffer | undefined, file: string | undefined) => inline ?? (file ? await readFile(file) : undefined);
    const [ca, cert, key] = await Promise.all([load(o.ca, o.caFile), load(o.cert, o.certFile), load(o.key, o.keyFile)]);
    this.#tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
    this.#log.info({ url: urlForDisplay(o.url), clientId: o.clientId, protocolVersion: this.#version }, 'connecting to MQTT broker');
    this.#client = this.#createClient();
  }

  /** Resolves when connected (now or later); rejects when `signal` aborts. */
  async waitForConnection(signal?: AbortSignal): Promise<void> {
    if (this.#connected) return;
    signal?.throwIfAborted();
    await new Promise<void>((resolve, reject) => {
      const onConnected = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.off('connected', onConnected);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      this.once('connected', onConnected);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Publishes `{"state":"offline"}` retained, then disconnects; bounded by stopTimeoutMs. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    const laneStopped = this.#lane?.stop();
    this.#subs.releaseAll();
    if (this.#pending.size > 0) this.#log.warn({ topics: this.#pending.size }, 'stopping with unsent MQTT messages; dropped');
    this.#pending.clear();
    const client = this.#client;
    if (!client) {
      await laneStopped;
      return;
    }
    const timeoutMs = this.#o.stopTimeoutMs ?? 2000;
    const deadline = Date.now() + timeoutMs;
    const bounded = (p: Promise<void>) =>
      Promise.race([p, new Promise<void>((r) => setTimeout(r, Math.max(0, deadline - Date.now())).unref())]);
    if (this.#live && !this.#o.receiveOnly) {
      await bounded(this.#send(client, { topic: this.#stateTopic, payload: OFFLINE, qos: 1, retain: true }));
    }
    const ended = new Promise<void>((resolve) => client.end(!this.#live, {}, () => resolve()));
    await bounded(ended);
    // end() ignores a second (forced) call while a graceful one is pending: destroy the socket.
    if (!client.disconnected) client.stream?.destroy();
    this.#goneOffline();
    await laneStopped;
    this.#log.info('MQTT connection closed');
  }

  /**
   * Publishes (QoS 1 unless told otherwise; objects are JSON-encoded). Never rejects: resolves
   * when the broker acknowledged, when the message was buffered for the next connection, or on
   * failure (logged). Retained publishes update the registry restored after every reconnect.
   */
  async publish(topic: string, payload: string | Buffer | object, opts: PublishOptions = {}): Promise<void> {
    if (!isValidTopicName(topic)) {
      this.#log.error({ topic }, 'refusing to publish to an invalid MQTT topic');
      return;
    }
    let body: string | Buffer;
    try {
      body = typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload);
    } catch (err) {
      this.#log.error({ topic, err: (err as Error).message }, 'cannot serialise MQTT payload');
      return;
    }
    const msg: Outgoing = { topic, payload: body, qos: opts.qos ?? 1, retain: opts.retain ?? false };
    if (opts.properties) msg.properties = opts.properties;
    if (msg.retain) {
      if (body.length === 0) this.#retained.delete(topic);
      else this.#retained.set(topic, { topic, payload: body, qos: msg.qos, retain: true });
    }
    const client = this.#client;
    if (this.#live && client) return this.#send(client, msg);
    if (this.#stopped) {
      this.#log.debug({ topic }, 'MQTT connection stopped; message dropped');
      return;
    }
    // State (retained) is kept newest-per-topic; answers and events are each kept, in order.
    const key = msg.retain ? topic : `${topic}\u0000${this.#sequence++}`;
    this.#pending.delete(key);
    this.#pending.set(key, msg);
    const max = this.#o.maxBufferedTopics ?? 10_000;
    while (this.#pending.size > max) {
      const oldest = this.#pending.keys().next().value;
      if (oldest === undefined) break;
      this.#pending.delete(oldest);
      if (this.#dropped++ % 1000 === 0) this.#log.warn({ max, dropped: this.#dropped }, 'MQTT buffer full; dropping oldest topics');
    }
  }

  /**
   * Subscribes `handler` to `filter`. Resolves after the broker's SUBACK — on the next connection
   * when disconnected — with an `unsubscribe` function. Kept and renewed on every reconnect.
   * Rejects only for an invalid filter.
   */
  async subscribe(filter: string, handler: MessageHandler, opts: SubscribeOptions = {}): Promise<() => Promise<void>> {
    if (!isValidTopicFilter(filter)) throw new Error(`invalid MQTT topic filter: ${filter}`);
    if (opts.lane === 'commands' && this.#lane) return this.#lane.subscribe(filter, handler, opts);
    const { group, entry } = this.#subs.add(filter, handler, opts);
    let done = false;
    const unsubscribe = async (): Promise<void> => {
      if (done) return;
      done = true;
      const client = this.#client;
      if (!this.#subs.remove(group, entry) || !this.#live || !client) return;
      const gen = this.#gen;
      await new Promise<void>((resolve) => {
        this.#inflight.add(resolve);
        client.unsubscribe(filter, (err) => {
          if (err && gen === this.#gen) this.#log.warn({ filter, err: err.message }, 'MQTT unsubscribe failed');
          this.#inflight.delete(resolve);
          resolve();
        });
      });
    };
    if (this.#stopped) return unsubscribe;
    const key = optionsKey(mergedOptions(group));
    if (this.#live && group.activeOn === this.#gen && group.activeKey === key) return unsubscribe;
    const ready = new Promise<void>((resolve) => group.waiters.push(resolve));
    if (this.#live && this.#client) this.#sendSubscribe(this.#client, group);
    await ready;
    return unsubscribe;
  }

  /**
   * Answers a request: publishes `payload` (non-retained) to `fallbackTopic` and, when the request
   * carried an MQTT 5 response topic, also there with the request's correlation data, unless that
   * topic is a command topic (responseTopics.ts).
   */
  async respond(request: IncomingMessage, fallbackTopic: string, payload: string | Buffer | object): Promise<void> {
    const asked = this.mqtt5 ? request.properties?.responseTopic : undefined;
    // Our own answer topic (`…/response/set` ends like a command topic) is always fine.
    const responseTopic = asked !== undefined && (asked === fallbackTopic || this.#responseTopics.allows(asked)) ? asked : undefined;
    const correlationData = request.properties?.correlationData;
    const props: PublishOptions = correlationData ? { properties: { correlationData } } : {};
    const sends = [this.publish(fallbackTopic, payload, responseTopic === fallbackTopic ? props : {})];
    if (responseTopic && responseTopic !== fallbackTopic) sends.push(this.publish(responseTopic, payload, props));
    await Promise.all(sends);
  }

  #createClient(): MqttClient {
    const o = this.#o;
    const version = this.#version;
    const options: IClientOptions = {
      clientId: o.clientId,
      protocolVersion: version,
      clean: true,
      resubscribe: false,
      queueQoSZero: false,
      reconnectPeriod: this.#minMs,
      reconnectOnConnackError: true,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      keepalive: o.keepalive ?? 30,
      // mqtt-packet's default pre-builds a Buffer for each of the 65,536 two-byte numbers (packet
      // ids, lengths): 5 MB of heap that every full GC walks, for a daemon that sends a few
      // messages a second. Without it each number gets a 2-byte buffer when written.
      writeCache: false,
      // mqtt.js logs through `debug`, whose disabled logger still copies each call's arguments
      // into an array, several per packet: a sixth of what a command allocated. (It would also
      // print the CONNECT password under DEBUG; cli.ts keeps those namespaces off.)
      log: NO_LOG,
      rejectUnauthorized: o.rejectUnauthorized ?? true,
      ...(o.receiveOnly ? {} : { will: { topic: this.#stateTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true as const } }),
      ...this.#tls,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
    };
    this.#attempt = { reached: false, connack: false, transportError: false };
    const client = mqtt.connect(o.url, options);
    const mine = () => client === this.#client && !this.#stopped;
    client.on('connect', (packet) => {
      if (mine()) this.#onConnect(client, packet);
    });
    client.on('message', (topic, payload, packet) => {
      if (mine()) this.#dispatch(topic, payload, packet);
    });
    // Nagle's algorithm on our socket holds a small publish until the broker ACKs the previous one,
    // and a broker that delays its ACKs (stock mosquitto) makes that ~40 ms per command. The first
    // socket exists once mqtt.connect() returns; each reconnect makes a new one, reachable when its
    // CONNECT is sent.
    this.#onNewSocket(client);
    client.on('packetsend', (packet) => {
      if (packet.cmd === 'connect') this.#onNewSocket(client);
    });
    client.on('packetreceive', (packet) => {
      if (packet.cmd === 'connack') this.#attempt.connack = true;
    });
    client.on('reconnect', () => {
      this.#attempt = { reached: false, connack: false, transportError: false };
      client.options.reconnectPeriod = Math.min(this.#maxMs, Math.max(this.#minMs, (client.options.reconnectPeriod ?? 0) * 2));
    });
    client.on('error', (err) => {
      if (mine()) this.#onError(client, err);
    });
    client.on('disconnect', (packet) => this.#log.warn({ reasonCode: packet.reasonCode }, 'MQTT broker sent DISCONNECT'));
    client.on('close', () => {
      if (client === this.#client) this.#onClose();
    });
    return client;
  }

  #onNewSocket(client: MqttClient): void {
    const stream = client.stream;
    disableNagle(stream);
    // A broker that takes the TCP connection and closes it before any CONNACK is refusing us (for
    // a receive-only connection); one that is not listening is just down. ws:// streams are not
    // sockets and never count.
    if (this.#o.receiveOnly && stream instanceof Socket) {
      const attempt = this.#attempt;
      stream.once('connect', () => (attempt.reached = true));
    }
  }

  #onError(client: MqttClient, err: Error): void {
    const code = (err as { code?: unknown }).code;
    if (this.#o.receiveOnly && typeof code === 'number') {
      this.emit('refused', `CONNACK reason code ${code}: ${err.message}`);
      return;
    }
    if (this.#version === 5 && (code === 1 || code === 132)) {
      this.#log.warn({ err: err.message }, 'MQTT broker refused protocol 5; falling back to 3.1.1');
      this.#fallback(client, 4, 0, false);
      return;
    }
    if (transportCode(err)) this.#attempt.transportError = true;
    this.#warnNotConnected(err);
  }

  #onClose(): void {
    if (this.#live) {
      this.#goneOffline();
      if (this.#stopped) return;
      // A receive-only connection has nothing to buffer.
      this.#log.warn(this.#o.receiveOnly ? 'MQTT connection lost; reconnecting' : 'MQTT connection lost; buffering and reconnecting');
      this.#lastWarnAt = Date.now();
    }
    if (this.#o.receiveOnly) {
      if (this.#stopped || !this.#attempt.reached || this.#attempt.connack) return;
      if (++this.#closesWithoutConnack >= REFUSED_AFTER_CLOSES) {
        this.emit('refused', `closed ${REFUSED_AFTER_CLOSES} times after CONNECT without a CONNACK`);
      }
      return;
    }
    const client = this.#client;
    if (!client || this.#stopped || this.#versionLocked || this.#attempt.connack || this.#attempt.transportError) return;
    // The broker took the connection and closed it (or never answered) without a CONNACK: some
    // brokers do that on a CONNECT of an unknown protocol level. Try the other level until one works.
    if (this.#version === 5) {
      const level = this.#guessWarned ? 'debug' : 'warn';
      this.#guessWarned = true;
      this.#log[level]('MQTT broker closed the connection without CONNACK on protocol 5; trying 3.1.1');
      this.#fallback(client, 4, client.options.reconnectPeriod ?? this.#minMs, true);
    } else if (this.#guessedFallback) {
      this.#fallback(client, 5, client.options.reconnectPeriod ?? this.#minMs, false);
    }
  }

  /** Replace the client by a new one speaking `version` (mqtt.js cannot change protocol in place). */
  #fallback(old: MqttClient, version: 4 | 5, delayMs: number, guessed: boolean): void {
    this.#version = version;
    this.#guessedFallback = guessed;
    this.#client = undefined;
    old.removeAllListeners();
    old.on('error', () => undefined);
    old.end(true);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      if (!this.#stopped) this.#client = this.#createClient();
    }, delayMs);
  }

  #onConnect(client: MqttClient, packet: IConnackPacket): void {
    const gen = ++this.#gen;
    this.#live = true;
    this.#versionLocked = true;
    this.#guessedFallback = false;
    client.options.reconnectPeriod = this.#minMs;
    this.#closesWithoutConnack = 0;
    this.#idsAvailable = this.#version === 5 && packet.properties?.subscriptionIdentifiersAvailable !== false;
    const restored = this.#retained.size;
    const flushed = this.#pending.size;
    this.#log.info({ url: urlForDisplay(this.#o.url), protocolVersion: this.#version, restored, flushed }, 'MQTT connected');
    this.#lastWarnAt = 0;
    // Everything below is written synchronously, so the wire order is: subscriptions, online,
    // older retained state, then buffered messages in publish order; later publishes follow.
    const acks: Array<Promise<void>> = this.#subs.groups().map((group) => {
      const ready = new Promise<void>((resolve) => group.waiters.push(resolve));
      this.#sendSubscribe(client, group);
      return ready;
    });
    if (!this.#o.receiveOnly) {
      acks.push(this.#send(client, { topic: this.#stateTopic, payload: ONLINE, qos: 1, retain: true }));
      for (const [topic, msg] of this.#retained) if (!this.#pending.has(topic)) acks.push(this.#send(client, msg));
      for (const msg of this.#pending.values()) acks.push(this.#send(client, msg));
      this.#pending.clear();
    }
    this.#lane?.open();
    void Promise.all(acks).then(() => {
      if (gen !== this.#gen || !this.#live || this.#stopped) return;
      this.#connected = true;
      this.emit('connected');
    });
  }

  #goneOffline(): void {
    const wasConnected = this.#connected;
    this.#live = false;
    this.#connected = false;
    this.#gen++;
    // In-flight QoS 1 publishes stay in mqtt.js's store and are resent on reconnect; don't make
    // callers wait for that.
    for (const resolve of [...this.#inflight]) resolve();
    this.#inflight.clear();
    if (wasConnected) this.emit('disconnected');
  }

  #warnNotConnected(err: Error): void {
    const now = Date.now();
    const detail = { url: urlForDisplay(this.#o.url), err: err.message, retryMs: this.#client?.options.reconnectPeriod };
    if (now - this.#lastWarnAt >= WARN_EVERY_MS) {
      this.#lastWarnAt = now;
      this.#log.warn(detail, 'MQTT broker not connected; retrying');
    } else {
      this.#log.debug(detail, 'MQTT broker not connected; retrying');
    }
  }

  #send(client: MqttClient, msg: Outgoing): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.#inflight.delete(done);
        resolve();
      };
      this.#inflight.add(done);
      const opts: IClientPublishOptions = { qos: msg.qos, retain: msg.retain };
      if (msg.properties && this.#version === 5) opts.properties = msg.properties;
      client.publish(msg.topic, msg.payload, opts, (err) => {
        if (err) this.#log.warn({ topic: msg.topic, err: err.message }, 'MQTT publish failed');
        done();
      });
    });
  }

  #sendSubscribe(client: MqttClient, group: FilterGroup): void {
    const gen = this.#gen;
    const merged = mergedOptions(group);
    const opts: IClientSubscribeOptions = { qos: merged.qos };
    if (this.#version === 5) {
      opts.rap = merged.rap;
      opts.nl = merged.nl;
      if (this.#idsAvailable) opts.properties = { subscriptionIdentifier: group.id };
    }
    client.subscribe(group.filter, opts, (err, granted) => {
      if (gen !== this.#gen || !this.#live) return; // redone on the next connection
      const refused = granted?.find((g) => g.qos >= 0x80);
      if (err) this.#log.error({ filter: group.filter, err: err.message }, 'MQTT subscribe failed');
      else if (refused) this.#log.error({ filter: group.filter, code: refused.qos }, 'MQTT broker refused subscription');
      group.activeOn = gen;
      group.activeKey = optionsKey(merged);
      for (const resolve of group.waiters.splice(0)) resolve();
    });
  }

  #dispatch(topic: string, payload: Buffer, packet: IPublishPacket): void {
    const message = toIncomingMessage(topic, payload, packet);
    for (const group of this.#subs.match(topic, packet.properties?.subscriptionIdentifier)) {
      for (const entry of [...group.entries]) {
        const fail = (err: unknown) =>
          this.#log.error({ topic, filter: group.filter, err: err instanceof Error ? err.message : String(err) }, 'MQTT message handler failed');
        try {
          const result = entry.handler({ ...message });
          if (result instanceof Promise) void result.catch(fail);
        } catch (err) {
          fail(err);
        }
      }
    }
  }
}

/**
 * TCP_NODELAY on mqtt:// and mqtts:// sockets (a TLSSocket is a net.Socket and passes it on to its
 * TCP socket). ws:// and wss:// streams are not sockets: the ws library sets it on its own.
 */
export function disableNagle(stream: MqttClient['stream']): void {
  if (stream instanceof Socket) stream.setNoDelay(true);
}
