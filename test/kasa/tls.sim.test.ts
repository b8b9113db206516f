/** HTTPS to the simulator: trusted with the test CA (extraCa or KASA_CA_FILE), refused without it. */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KasaNetworkError } from '../../src/kasa/errors.js';
import { makeTestTls, type TestTls } from '../helpers/tls.js';
import { startEnv, thrown, type Env } from './simEnv.js';

let tls: TestTls;
let env: Env | undefined;

beforeAll(() => {
  tls = makeTestTls();
});
afterAll(() => tls.cleanup());
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe('TLS', () => {
  it('works with the test CA given as extraCa', async () => {
    env = await startEnv({ tls: { key: tls.keyPem, cert: tls.certPem } });
    expect(env.sim.url).toMatch(/^https:/);
    const client = env.client({ extraCa: [tls.caPem] });
    await expect(client.login()).resolves.toEqual({ status: 'authenticated' });
    await expect(client.getDeviceList()).resolves.not.toHaveLength(0);
  });

  it('works with the test CA given as KASA_CA_FILE', async () => {
    env = await startEnv({ tls: { key: tls.keyPem, cert: tls.certPem } });
    await expect(env.client({ caFile: tls.caFile }).login()).resolves.toEqual({ status: 'authenticated' });
  });

  it('is refused without the test CA, before any request reaches the server', async () => {
    env = await startEnv({ tls: { key: tls.keyPem, cert: tls.certPem } });
    const err = await thrown(() => env!.client().login());
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect((err as KasaNetworkError).timeout).toBe(false);
    expect(err.message).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|certificate/i);
    expect(err.message).toMatch(/KASA_CA_FILE/);
    expect(env.sim.count()).toBe(0);
  });
});

describe('TLS failures say what failed and what to do', () => {
  const cases = [
    {
      name: 'an unknown CA',
      tls: () => tls,
      withCa: false,
      expected: /issued by a CA this client does not trust \(add that CA as a PEM file with KASA_CA_FILE/,
    },
    { name: 'an expired certificate', tls: () => makeTestTls({ expired: true }), withCa: true, expected: /CERT_HAS_EXPIRED.*has expired/ },
    {
      name: 'a certificate for another host name',
      tls: () => makeTestTls({ altNames: 'DNS:n-wap.tplinkcloud.example' }),
      withCa: true,
      expected: /ERR_TLS_CERT_ALTNAME_INVALID.*for another host name \(check KASA_CLOUD_URL/,
    },
  ];
  it.each(cases)('$name', async ({ tls: make, withCa, expected }) => {
    const served = make();
    try {
      env = await startEnv({ tls: { key: served.keyPem, cert: served.certPem } });
      const err = await thrown(() => env!.client(withCa ? { extraCa: [served.caPem] } : {}).login());
      expect(err).toBeInstanceOf(KasaNetworkError);
      expect(err.message).toMatch(expected);
      expect(env.sim.count()).toBe(0);
    } finally {
      if (served !== tls) served.cleanup();
    }
  });
});
