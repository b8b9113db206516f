/**
 * A real MQTT client (mqtt.js) that timestamps every message it receives with performance.now(),
 * the clock the simulator timeline uses too, and can publish commands.
 */
import { randomUUID } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';

export interface Seen {
  readonly topic: string;
  readonly text: string;
  readonly retain: boolean;
  /** performance.now() on arrival. */
  readonly at: number;
}

export interface WatchOptions {
  /** Keep messages in `messages` (default true); counting and waiters work either way. */
  keep?: boolean;
  qos?: 0 | 1;
}

export class Watcher {
  readonly messages: Seen[] = [];
  received = 0;
  readonly #waiters = new Set<(m: Seen) => boolean>();
  readonly #listeners = new Set<(m: Seen) => void>();

  private constructor(
    readonly client: MqttClient,
    keep: boolean,
  ) {
    client.on('message', (topic, payload, packet) => {
      const m: Seen = { topic, text: payload.toString('utf8'), retain: packet.retain, at: performance.now() };
      this.received++;
      if (keep) this.messages.push(m);
      for (const l of this.#listeners) l(m);
      for (const w of [...this.#waiters]) if (w(m)) this.#waiters.delete(w);
    });
  }

  static async connect(url: string, filters: string[], options: WatchOptions = {}): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, {
      clientId: `bench_${randomUUID().slice(0, 8)}`,
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const watcher = new Watcher(client, options.keep ?? true);
    for (const filter of filters) await client.subscribeAsync(filter, { qos: options.qos ?? 0 });
    return watcher;
  }

  onMessage(listener: (m: Seen) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The next message (arriving after this call) that matches. */
  next(match: (m: Seen) => boolean, timeoutMs = 10_000, what = 'message'): Promise<Seen> {
    return new Promise<Seen>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const check = (m: Seen): boolean => {
        if (!match(m)) return false;
        clearTimeout(timer);
        resolve(m);
        return true;
      };
      this.#waiters.add(check);
    });
  }

  /** Publish without waiting for anything (QoS 0 unless told). */
  send(topic: string, payload: string, qos: 0 | 1 = 0): void {
    this.client.publish(topic, payload, { qos });
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/** `<base>/<key>`: a node's state topic (two levels, not the bridge's own). */
export function stateKey(topic: string, base = 'kasa'): string | undefined {
  if (!topic.startsWith(`${base}/`)) return undefined;
  const rest = topic.slice(base.length + 1);
  if (rest.includes('/') || rest === 'bridge') return undefined;
  return rest;
}

export async function waitUntil(predicate: () => boolean, timeoutMs: number, what: string, stepMs = 20): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs)} ms waiting for ${what}`);
    await sleep(stepMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
