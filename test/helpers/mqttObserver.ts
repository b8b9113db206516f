/**
 * A real mqtt.js client that records what it sees, for integration tests. No fixed sleeps:
 * `next()` waits for a message, `barrier()` proves everything sent before it has arrived,
 * `retained()` reads what the broker retains right now.
 *
 *   const obs = await observe(broker.url, ['kasa/#']);
 *   expect((await obs.next('kasa/bridge/state')).json()).toEqual({ state: 'online' });
 *   await obs.close();
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type IClientPublishOptions, type IClientSubscribeOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { topicMatches } from '../../src/mqtt/topicMatch.js';

export interface ObservedMessage {
  topic: string;
  payload: Buffer;
  text: string;
  retain: boolean;
  properties: IPublishPacket['properties'];
  /** Payload parsed as JSON (throws when it is not JSON). */
  json<T = unknown>(): T;
}

export interface ObserveOptions {
  protocolVersion?: 4 | 5;
  /** MQTT 5 retain-as-published on the initial filters. */
  rap?: boolean;
  /** QoS of the initial subscriptions (default 1). */
  qos?: 0 | 1;
  clientOptions?: IClientOptions;
}

export interface Observer {
  readonly client: MqttClient;
  /** Everything received, in order. */
  readonly messages: ObservedMessage[];
  /**
   * The first not-yet-returned message on `topicOrFilter` (exact topic or wildcard filter)
   * matching `predicate`, from history or the future. Each call consumes up to the returned message
   * (per `topicOrFilter` string), so repeated calls walk through the sequence.
   */
  next(topicOrFilter: string, predicate?: (m: ObservedMessage) => boolean, timeoutMs?: number): Promise<ObservedMessage>;
  /** Messages received so far on a topic or filter. */
  on(topicOrFilter: string): ObservedMessage[];
  /** Resolves once everything the broker routed to us before this call has arrived. */
  barrier(timeoutMs?: number): Promise<void>;
  /** What the broker retains on `topic` right now (read by a fresh client), or undefined. */
  retained(topic: string): Promise<ObservedMessage | undefined>;
  subscribe(filter: string, opts?: Partial<IClientSubscribeOptions>): Promise<void>;
  publish(topic: string, payload: string | Buffer, opts?: IClientPublishOptions): Promise<void>;
  close(): Promise<void>;
}

/** Poll `predicate` until it holds (default 5 s), for state that has no event to wait on. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Resolve on the next `event` of an emitter, or fail after timeoutMs. */
export function nextEvent(emitter: { once(event: string, listener: () => void): unknown; off(event: string, listener: () => void): unknown }, event: string, timeoutMs = 10_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, onEvent);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for '${event}'`));
    }, timeoutMs);
    const onEvent = () => {
      clearTimeout(timer);
      resolve();
    };
    emitter.once(event, onEvent);
  });
}

function toObserved(topic: string, payload: Buffer, packet: IPublishPacket): ObservedMessage {
  const text = payload.toString('utf8');
  return { topic, payload, text, retain: packet.retain, properties: packet.properties, json: <T>() => JSON.parse(text) as T };
}

export async function observe(url: string, filters: string | string[] = [], options: ObserveOptions = {}): Promise<Observer> {
  const version = options.protocolVersion ?? 4;
  const qos = options.qos ?? 1;
  const client = await mqtt.connectAsync(url, {
    protocolVersion: version,
    clientId: `observer_${randomUUID().slice(0, 8)}`,
    reconnectPeriod: 50,
    ...options.clientOptions,
  });
  const messages: ObservedMessage[] = [];
  const cursors = new Map<string, number>();
  const waiters = new Set<() => void>();
  const barrierTopic = `test/barrier/${randomUUID()}`;
  client.on('message', (topic, payload, packet) => {
    messages.push(toObserved(topic, payload, packet));
    for (const w of [...waiters]) w();
  });

  const subscribe = async (filter: string, opts: Partial<IClientSubscribeOptions> = {}) => {
    const base: IClientSubscribeOptions = { qos, ...(version === 5 && options.rap ? { rap: true } : {}) };
    await client.subscribeAsync(filter, { ...base, ...opts });
  };
  await client.subscribeAsync(barrierTopic, { qos: 1 });
  for (const f of Array.isArray(filters) ? filters : [filters]) await subscribe(f);

  const find = (key: string, predicate?: (m: ObservedMessage) => boolean): ObservedMessage | undefined => {
    for (let i = cursors.get(key) ?? 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (!topicMatches(key, m.topic)) continue;
      cursors.set(key, i + 1);
      if (!predicate || predicate(m)) return m;
    }
    return undefined;
  };

  const next: Observer['next'] = (key, predicate, timeoutMs = 5000) => {
    const found = find(key, predicate);
    if (found) return Promise.resolve(found);
    return new Promise<ObservedMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(check);
        const seen = messages.filter((m) => topicMatches(key, m.topic)).map((m) => `${m.text}${m.retain ? ' (r)' : ''}`);
        reject(new Error(`no matching message on '${key}' within ${timeoutMs} ms; seen: ${JSON.stringify(seen)}`));
      }, timeoutMs);
      const check = () => {
        const m = find(key, predicate);
        if (!m) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(m);
      };
      waiters.add(check);
    });
  };

  return {
    client,
    messages,
    next,
    on: (key) => messages.filter((m) => topicMatches(key, m.topic)),
    async barrier(timeoutMs = 5000) {
      const token = randomUUID();
      const arrived = next(barrierTopic, (m) => m.text === token, timeoutMs);
      await client.publishAsync(barrierTopic, token, { qos: 1 });
      await arrived;
    },
    async retained(topic) {
      return (await readRetained(url, topic, version)).get(topic);
    },
    subscribe,
    async publish(topic, payload, opts = { qos: 1 }) {
      await client.publishAsync(topic, payload, opts);
    },
    async close() {
      await client.endAsync(true);
    },
  };
}

/**
 * What the broker retains right now under `filter` (topic → message), read by a fresh client.
 * Subscribes at QoS 0 (mosquitto drops QoS 1 messages beyond max_queued_messages, 1000); the
 * QoS 1 barrier still comes after the retained messages on both mosquitto and aedes.
 */
export async function readRetained(url: string, filter: string, protocolVersion: 4 | 5 = 4): Promise<Map<string, ObservedMessage>> {
  const obs = await observe(url, filter, { protocolVersion, qos: 0 });
  try {
    await obs.barrier();
    return new Map(obs.on(filter).filter((m) => m.retain).map((m) => [m.topic, m]));
  } finally {
    await obs.close();
  }
}

/** Message predicates shared by the integration tests. */
export const nonEmpty = (m: ObservedMessage): boolean => m.payload.length > 0;
export const empty = (m: ObservedMessage): boolean => m.payload.length === 0;

/** Accepts only messages the observer receives after this call. */
export function since(obs: Observer): (m: ObservedMessage) => boolean {
  const start = obs.messages.length;
  return (m) => obs.messages.indexOf(m) >= start;
}

export const both =
  (...preds: ((m: ObservedMessage) => boolean)[]) =>
  (m: ObservedMessage): boolean =>
    preds.every((p) => p(m));
