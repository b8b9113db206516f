/**
 * The command path's floor: a process that does only what every MQTT-to-cloud bridge must do for
 * a `set`, over the same hops as kasa2mqtt, and nothing else. It receives on a receive-only
 * connection (as the bridge does), sends the signed passthrough with the bridge's own
 * KasaCloudClient, and publishes the answer's relay state at QoS 1 on its main connection. No
 * scheduler, registry, validation, state cache, discovery or logging. Run by `relay.ts`; speaks
 * on stdout: `ready` once logged in and subscribed.
 *
 *   RELAY_MQTT_URL RELAY_CLOUD_URL RELAY_USERNAME RELAY_PASSWORD RELAY_DEVICE_ID RELAY_DATA_DIR
 */
// The bridge's own V8 settings, so the floor differs from it only in what it does.
import '../../src/v8HeapFlags.js';
import mqtt from 'mqtt';
import { KasaCloudClient } from '../../src/kasa/cloudClient.js';
import { SessionStore } from '../../src/kasa/sessionStore.js';
import { createLogger } from '../../src/logger.js';
import { disableNagle } from '../../src/mqtt/connection.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const logger = createLogger({ level: 'silent' });
const cloud = new KasaCloudClient({
  cloudUrl: env('RELAY_CLOUD_URL'),
  username: env('RELAY_USERNAME'),
  password: env('RELAY_PASSWORD'),
  store: new SessionStore({ dataDir: env('RELAY_DATA_DIR'), logger }),
  requestTimeoutMs: 20_000,
  logger,
});
const login = await cloud.login();
if (login.status !== 'authenticated') throw new Error('relay: login asked for MFA');
const device = (await cloud.getDeviceList()).find((d) => d.deviceId === env('RELAY_DEVICE_ID'));
if (!device) throw new Error('relay: device not in the device list');

const url = env('RELAY_MQTT_URL');
const main = await mqtt.connectAsync(url, { clientId: 'bench_relay', protocolVersion: 5, reconnectPeriod: 0 });
const commands = await mqtt.connectAsync(url, { clientId: 'bench_relay_cmd', protocolVersion: 5, reconnectPeriod: 0 });
for (const client of [main, commands]) disableNagle(client.stream);
commands.on('message', (_topic, payload) => {
  const state = payload.toString() === 'ON' ? 1 : 0;
  void cloud.passthrough(device, { system: { set_relay_state: { state }, get_sysinfo: null } }).then(
    (answer) => {
      const sysinfo = (answer as { system?: { get_sysinfo?: { relay_state?: number } } }).system?.get_sysinfo;
      main.publish('bench/relay/state', sysinfo?.relay_state === 1 ? 'ON' : 'OFF', { qos: 1 });
    },
    (err: unknown) => process.stderr.write(`relay: ${String(err)}\n`),
  );
});
await commands.subscribeAsync('bench/relay/set', { qos: 1 });
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void Promise.all([main.endAsync(), commands.endAsync(), cloud.close()]).finally(() => process.exit(0));
});
