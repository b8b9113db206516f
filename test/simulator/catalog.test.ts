/** The demo catalogue, the benchmark mix and the `kasa2mqtt simulator` command. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { demoAccount, DEMO_IDENTITY, manyDevices, startSimulator } from '../../src/simulator/index.js';
import type { Simulator } from '../../src/simulator/types.js';
import { APP_TYPE, call, loginBody } from './client.js';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.stop();
  sim = undefined;
});

describe('catalogue', () => {
  it('the demo account has MFA, the demo code and every family, one offline plug and a Tapo plug', async () => {
    const spec = demoAccount();
    expect(spec).toMatchObject({ username: DEMO_IDENTITY.username, mfa: true, mfaCode: DEMO_IDENTITY.mfaCode });
    sim = await startSimulator({ accounts: [spec] });
    const devices = sim.devices(spec.username);
    expect(new Set(devices.map((d) => d.family))).toEqual(
      new Set(['plug', 'switch', 'dimmer', 'strip', 'bulb', 'lightstrip', 'smart']),
    );
    const models = devices.map((d) => d.model.replace(/\(.*\)/, ''));
    expect(models).toEqual(
      expect.arrayContaining(['HS103', 'HS110', 'KP125', 'HS200', 'HS220', 'HS300', 'KP303', 'KL130', 'KL110', 'KL430', 'P100']),
    );
    expect(devices.filter((d) => !d.online)).toHaveLength(1);
  });

  it('manyDevices(n) gives n distinct devices in a mix with strips on both device hosts', async () => {
    const specs = manyDevices(50);
    expect(new Set(specs.map((d) => d.deviceId)).size).toBe(50);
    sim = await startSimulator({ accounts: [{ username: 'bench@example.com', password: 'x', devices: specs }] });
    const devices = sim.devices('bench@example.com');
    expect(devices).toHaveLength(50);
    expect(devices.filter((d) => d.family === 'strip').length).toBeGreaterThanOrEqual(5);
    expect(new Set(devices.map((d) => d.host))).toEqual(new Set([0, 1]));
  });
});

describe('kasa2mqtt simulator', () => {
  it('prints one JSON line, serves the demo account, and stops on SIGTERM', async () => {
    const cliModule = fileURLToPath(new URL('../../src/simulator/cli.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '-e', `import(${JSON.stringify(cliModule)}).then((m) => m.runSimulatorCli(['--host', '127.0.0.1']))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      const printed = JSON.parse(first);
      expect(printed).toEqual({
        url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        username: DEMO_IDENTITY.username,
        password: DEMO_IDENTITY.password,
        mfa_code: DEMO_IDENTITY.mfaCode,
      });
      const status = await call(printed.url, '/api/v2/account/getAccountStatusAndUrl', {
        appType: APP_TYPE,
        cloudUserName: printed.username,
      });
      expect(status.body.error_code).toBe(0);
      const loginRes = await call(status.body.result.appServerUrl, '/api/v2/account/login', loginBody(printed.username, printed.password));
      expect(loginRes.body.error_code).toBe(-20677);
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
