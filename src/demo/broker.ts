/**
 * The demo's broker: use the one that answers at MQTT_URL, or start one on that address when
 * nothing answers there: mosquitto when it is installed, else the in-process aedes broker.
 */
import { topics } from '../api/types.js';
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from './embeddedBroker.js';
import { startMosquitto } from './mosquitto.js';

export interface BrokerCredentials {
  username?: string;
  password?: string;
}

export type ProbeResult =
  /** A broker accepted an MQTT 3.1.1 connection; `bridgeOnline` = a retained `<base>/bridge/state` says online. */
  | { kind: 'answered'; bridgeOnline: boolean }
  /** A broker answered but refused the connection (bad credentials, not authorised …). */
  | { kind: 'refused'; reason: string }
  /** Nothing answered within the time limit (no listener, or not MQTT). */
  | { kind: 'silent'; reason: string };

/**
 * One short MQTT 3.1.1 connect attempt (both mosquitto and aedes accept it). When it succeeds,
 * also reads the retained `<base>/bridge/state`, so the demo does not take over the topics of a
 * kasa2mqtt that is running on that broker right now.
 */
export async function probeBroker(url: string, baseTopic: string, creds: BrokerCredentials, timeoutMs = 1500): Promise<ProbeResult> {
  const client = mqtt.connect(url, {
    protocolVersion: 4,
    clientId: `kasa2mqtt_demo_probe_${randomBytes(4).toString('hex')}`,
    clean: true,
    connectTimeout: timeoutMs,
    reconnectPeriod: 0,
    ...(creds.username !== undefined ? { username: creds.username } : {}),
    ...(creds.password !== undefined ? { password: creds.password } : {}),
  });
  // mqtt.js emits 'error' for refused CONNACKs and socket errors; a listener keeps them from throwing.
  client.on('error', () => {});
  try {
    const connected = await new Promise<ProbeResult | true>((resolve) => {
      const timer = setTimeout(() => resolve({ kind: 'silent', reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
      client.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
      client.once('error', (err: Error & { code?: unknown }) => {
        clearTimeout(timer);
        resolve(typeof err.code === 'number' ? { kind: 'refused', reason: err.message } : { kind: 'silent', reason: err.message });
      });
      client.once('close', () => {
        clearTimeout(timer);
        resolve({ kind: 'silent', reason: 'connection closed without an answer' });
      });
    });
    if (connected !== true) return connected;
    return { kind: 'answered', bridgeOnline: await retainedBridgeOnline(client, baseTopic, timeoutMs) };
  } finally {
    await client.endAsync(true).catch(() => {});
  }
}

/**
 * Subscribes to `<base>/bridge/state` and to a private topic, then publishes to the private topic:
 * when that echo arrives, any retained state message has arrived before it (one connection, in order).
 */
async function retainedBridgeOnline(client: mqtt.MqttClient, baseTopic: string, timeoutMs: number): Promise<boolean> {
  const stateTopic = topics(baseTopic).bridgeState;
  const echoTopic = `kasa2mqtt_demo_probe/${randomBytes(6).toString('hex')}`;
  let online = false;
  const done = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    client.on('message', (topic, payload) => {
      if (topic === stateTopic) online = isOnline(payload);
      if (topic === echoTopic) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await client.subscribeAsync([stateTopic, echoTopic], { qos: 1 });
    await client.publishAsync(echoTopic, 'probe', { qos: 1 });
  } catch {
    return false;
  }
  await done;
  return online;
}

function isOnline(payload: Buffer): boolean {
  try {
    return (JSON.parse(payload.toString('utf8')) as { state?: unknown }).state === 'online';
  } catch {
    return false;
  }
}

export interface DemoBroker {
  /** What the bridge connects to. */
  readonly url: string;
  /** Host and port to print in the instructions. */
  readonly host: string;
  readonly port: number;
  /** The broker the demo started, stopped with it; undefined when it uses one that was running. */
  readonly started: StartedBroker | undefined;
  /** A kasa2mqtt is online on this broker with the same base topic. */
  readonly bridgeOnline: boolean;
}

export type StartedBroker =
  | { kind: 'mosquitto'; stop(): Promise<void> }
  /** aedes speaks MQTT 3.1.1 only; `whyNotMosquitto` says why mosquitto was not used. */
  | { kind: 'aedes'; whyNotMosquitto: string; stop(): Promise<void> };

export class DemoBrokerError extends Error {
  override name = 'DemoBrokerError';
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '::1', '0.0.0.0', '::']);

/** Parses MQTT_URL into host and port (default 1883 for mqtt:, 8883 for mqtts:, 80/443 for ws:/wss:). */
export function brokerAddress(url: string): { scheme: string; host: string; port: number } {
  const parsed = new URL(url);
  const scheme = parsed.protocol.replace(/:$/, '');
  const defaults: Record<string, number> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return { scheme, host, port: parsed.port ? Number(parsed.port) : (defaults[scheme] ?? 1883) };
}

/**
 * Uses the broker answering at `url`, or, when nothing answers and the address is local, starts
 * mosquitto there (aedes when mosquitto is not installed or does not start).
 */
export async function ensureBroker(url: string, baseTopic: string, creds: BrokerCredentials): Promise<DemoBroker> {
  const { scheme, host, port } = brokerAddress(url);
  const probe = await probeBroker(url, baseTopic, creds);
  if (probe.kind === 'answered') {
    return { url, host, port, started: undefined, bridgeOnline: probe.bridgeOnline };
  }
  if (probe.kind === 'refused') {
    throw new DemoBrokerError(
      `the MQTT broker at ${url} refused the connection (${probe.reason}). ` +
        'Set MQTT_USERNAME and MQTT_PASSWORD, or point MQTT_URL at another broker.',
    );
  }
  if (scheme !== 'mqtt' || !LOCAL_HOSTS.has(host)) {
    throw new DemoBrokerError(
      `no MQTT broker answers at ${url} (${probe.reason}), and the demo can start its own broker only for ` +
        'an mqtt:// address on this machine (e.g. MQTT_URL=mqtt://localhost:1883).',
    );
  }
  // localhost may resolve to ::1 or 127.0.0.1; listen on the IPv4 loopback and say so.
  const listenHost = host === 'localhost' ? '127.0.0.1' : host;
  const mosquitto = await startMosquitto(listenHost, port);
  let started: StartedBroker;
  if (mosquitto.kind === 'started') {
    started = { kind: 'mosquitto', stop: () => mosquitto.broker.stop() };
  } else {
    const embedded = await embeddedOn(listenHost, port);
    started = { kind: 'aedes', whyNotMosquitto: mosquitto.reason, stop: () => embedded.stop() };
  }
  const connectHost = listenHost === '0.0.0.0' ? '127.0.0.1' : listenHost === '::' ? '::1' : listenHost;
  const bracketed = connectHost.includes(':') ? `[${connectHost}]` : connectHost;
  return { url: `mqtt://${bracketed}:${port}`, host: connectHost, port, started, bridgeOnline: false };
}

async function embeddedOn(host: string, port: number): Promise<EmbeddedBroker> {
  try {
    return await startEmbeddedBroker({ host, port });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `something is listening on ${host}:${port} but does not answer MQTT`
        : `cannot listen on ${host}:${port} (${(err as Error).message})`;
    throw new DemoBrokerError(`${why}. Set MQTT_URL=mqtt://127.0.0.1:<another port> to let the demo start its broker there.`);
  }
}
