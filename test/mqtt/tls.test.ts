import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, hasMosquitto, waitForPort } from '../helpers/broker.js';
import { nextEvent, observe, waitFor } from '../helpers/mqttObserver.js';
import { makeTestTls, type TestTls } from '../helpers/tls.js';
import { NO_NODELAY_RECORD, makeConnection, noDelayOf, uniqueBase } from './setup.js';

const canRun = hasMosquitto() && spawnSync('mosquitto_passwd', ['-h'], { stdio: 'ignore' }).error === undefined;

describe.skipIf(!canRun)('MQTT over TLS with a user name and password', () => {
  let tls: TestTls;
  let broker: ChildProcess;
  let port: number;

  beforeAll(async () => {
    tls = makeTestTls();
    port = await freePort();
    const passwd = join(tls.dir, 'passwd');
    spawnSync('mosquitto_passwd', ['-c', '-b', passwd, 'bridge', 's3cret-mqtt'], { stdio: 'ignore' });
    const conf = join(tls.dir, 'mosquitto.conf');
    writeFileSync(
      conf,
      [
        `user ${userInfo().username}`,
        'per_listener_settings false',
        'allow_anonymous false',
        `password_file ${passwd}`,
        'persistence false',
        'log_dest none',
        `listener ${port} 127.0.0.1`,
        `certfile ${join(tls.dir, 'server.pem')}`,
        `keyfile ${join(tls.dir, 'server.key')}`,
        '',
      ].join('\n'),
    );
    broker = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitForPort(port, broker);
  });
  /** The CA and the credentials the broker accepts. */
  const trusted = () => ({ caFile: tls.caFile, username: 'bridge', password: 's3cret-mqtt' });

  afterAll(async () => {
    if (broker && broker.exitCode === null) {
      const exited = new Promise((r) => broker.once('exit', r));
      broker.kill('SIGTERM');
      await exited;
    }
    tls?.cleanup();
  });

  it('connects with MQTT_CA_FILE, MQTT_USERNAME and MQTT_PASSWORD and publishes online, TCP_NODELAY on', async (ctx) => {
    const baseTopic = uniqueBase();
    const conn = makeConnection(`mqtts://localhost:${port}`, { baseTopic, ...trusted() });
    const connected = nextEvent(conn, 'connected');
    await conn.start();
    try {
      await connected;
      const socket = conn.client!.stream;
      expect(socket).toBeInstanceOf(TLSSocket);
      if (noDelayOf(socket) === undefined) ctx.skip(NO_NODELAY_RECORD);
      expect(noDelayOf(socket)).toBe(true);
      const obs = await observe(`mqtts://localhost:${port}`, [`${baseTopic}/#`], {
        clientOptions: { ca: tls.caPem, username: 'bridge', password: 's3cret-mqtt' },
      });
      try {
        expect((await obs.next(`${baseTopic}/bridge/state`)).text).toBe('{"state":"online"}');
      } finally {
        await obs.close();
      }
    } finally {
      await conn.stop();
    }
  });

  it('the command connection uses the same CA and credentials: a command arrives over TLS', async () => {
    const baseTopic = uniqueBase();
    const conn = makeConnection(`mqtts://localhost:${port}`, { baseTopic, ...trusted(), commandConnection: true });
    await conn.start();
    try {
      const got: string[] = [];
      await conn.subscribe(`${baseTopic}/+/set`, (m) => void got.push(m.payload.toString()), { lane: 'commands' });
      expect(conn.separateCommandConnection).toBe(true);
      const obs = await observe(`mqtts://localhost:${port}`, [], {
        clientOptions: { ca: tls.caPem, username: 'bridge', password: 's3cret-mqtt' },
      });
      try {
        await obs.publish(`${baseTopic}/plug/set`, 'ON', { qos: 1 });
        await waitFor(() => got.length > 0, 5000, 'the command');
        expect(got).toEqual(['ON']);
      } finally {
        await obs.close();
      }
    } finally {
      await conn.stop();
    }
  });

  // A refusal has no event to wait for: each case gets a bounded chance to connect and must not.
  it.each([
    ['without the CA (verification stays on)', false, 's3cret-mqtt'],
    ['with a wrong password', true, 'wrong'],
  ])('does not connect %s', async (_name, withCa, password) => {
    const conn = makeConnection(`mqtts://localhost:${port}`, { username: 'bridge', password, ...(withCa ? { caFile: tls.caFile } : {}) });
    await conn.start();
    try {
      await expect(conn.waitForConnection(AbortSignal.timeout(800))).rejects.toThrow();
      expect(conn.connected).toBe(false);
    } finally {
      await conn.stop();
    }
  });
});
