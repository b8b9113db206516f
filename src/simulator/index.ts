import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Cloud, type CloudUrls, type HostRole } from './cloud.js';
import { resetFaults } from './faults.js';
import { createListener } from './server.js';
import type { Simulator, SimulatorOptions } from './types.js';

export type * from './types.js';
export { DEFAULT_ERROR_CODES } from './errors.js';
export { demoAccount, DEMO_IDENTITY, manyDevices } from './catalog.js';

const ROLES: readonly HostRole[] = ['global', 'regional', 'device0', 'device1', 'appServer'];

/**
 * Starts a fake Kasa cloud on five real listeners: the global entry (`url`), the regional app
 * server, two device hosts (devices' `appServerUrl`; host 1 plays another region) and the app
 * server of thing shadows (`appServerUrl`). The Kasa and the Tapo app identities log in on the
 * same hosts; SMART devices answer through the Tapo passthrough and the shadows as the
 * `smartTransports` switch grants.
 *
 * Strict-mode host rules: getAccountStatusAndUrl on the global (or regional) host; login, MFA,
 * refreshToken, logout and getDeviceList only on the regional host — elsewhere they answer
 * -20212 "Incorrect service entry address" with `result.appServerUrl` = the regional URL, so a
 * client that skips the lookup fails; passthrough only on the device's own host (else -20571,
 * configurable). Lenient mode (`strict: false`) accepts every call on every host.
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const cloud = new Cloud(options);
  for (const account of options.accounts ?? []) cloud.addAccount(account);

  const host = options.host ?? '127.0.0.1';
  const advertised = options.advertisedHost ?? (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const ports: Record<HostRole, number> = {
    global: options.port ?? 0,
    regional: options.ports?.regional ?? 0,
    device0: options.ports?.device0 ?? 0,
    device1: options.ports?.device1 ?? 0,
    appServer: options.ports?.appServer ?? 0,
  };
  const scheme = options.tls ? 'https' : 'http';
  const servers: Server[] = [];
  const urls: Partial<CloudUrls> = {};
  try {
    for (const role of ROLES) {
      const server = createListener(cloud, role, options.tls);
      servers.push(server);
      const port = await listen(server, host, ports[role]);
      urls[role] = `${scheme}://${urlHost(advertised)}:${port}`;
    }
  } catch (err) {
    await Promise.all(servers.map(close));
    throw err;
  }
  cloud.urls = urls as CloudUrls;

  let stopped: Promise<void> | undefined;
  return {
    url: cloud.urls.global,
    regionalUrl: cloud.urls.regional,
    deviceUrls: [cloud.urls.device0, cloud.urls.device1],
    appServerUrl: cloud.urls.appServer,
    get smartTransports() {
      return cloud.smartTransports;
    },
    set smartTransports(grant) {
      cloud.smartTransports = grant;
    },
    faults: cloud.faults,
    requests: cloud.log.entries,
    get inFlight() {
      return cloud.inFlight;
    },
    addAccount: (spec) => cloud.addAccount(spec),
    addDevice: (username, spec) => cloud.addDevice(username, spec),
    removeDevice: (deviceId) => cloud.removeDevice(deviceId),
    device: (deviceId) => cloud.device(deviceId),
    devices: (username) => cloud.devices(username),
    setMfa: (username, enabled) => cloud.accounts.setMfa(username, enabled),
    lastMfaCode: (username) => cloud.accounts.get(username).lastMfaCode,
    untrustTerminals: (username) => cloud.accounts.untrustTerminals(username),
    unlock: (username) => cloud.accounts.unlock(username),
    get mfaDialect() {
      return cloud.mfaDialect;
    },
    set mfaDialect(dialect) {
      cloud.mfaDialect = dialect;
    },
    expireAccessTokens: () => cloud.tokens.expireAllAccess(),
    revokeTokens: (options) => cloud.tokens.revokeAll(options),
    expireRefreshTokens: () => cloud.tokens.expireAllRefresh(),
    count: (filter) => cloud.log.count(filter),
    clearRequests: () => cloud.log.clear(),
    resetFaults: () => resetFaults(cloud.faults),
    stop: () => {
      stopped ??= (async () => {
        cloud.markStopped();
        for (const timer of cloud.timers) clearTimeout(timer);
        cloud.timers.clear();
        await Promise.all(servers.map(close));
      })();
      return stopped;
    },
  };
}

function urlHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
