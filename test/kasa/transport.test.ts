/** Transport against undici's MockAgent: exact wire shape and odd replies. */
import { rootCertificates } from 'node:tls';
import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KasaMfaRequiredError,
  KasaNetworkError,
  KasaProtocolError,
  KasaTokenExpiredError,
  KasaUserActionError,
} from '../../src/kasa/errors.js';
import { createLogger } from '../../src/logger.js';
import { computeSignature, contentMd5, KASA_SECRET_KEY, parseAuthorization } from '../../src/kasa/signing.js';
import { BUNDLED_CA_PATH, buildCaList, KasaTransport, type TransportRequestEvent } from '../../src/kasa/transport.js';

const ORIGIN = 'https://n-use1-wap.tplinkcloud.com';
const TERM = '2a8ced52-f200-4b79-a1fe-2f6b58193c4c';
const logger = createLogger({ level: 'silent' });

interface Captured {
  path: string;
  headers: Record<string, string>;
  body: string;
}

let mock: MockAgent;
let transport: KasaTransport;
let events: TransportRequestEvent[];

beforeEach(() => {
  mock = new MockAgent();
  mock.disableNetConnect();
  events = [];
  transport = new KasaTransport({ logger, dispatcher: mock, onRequest: (e) => events.push(e) });
});

afterEach(async () => {
  await transport.close();
  await mock.close();
});

function replyOnce(status: number, data: string | object, capture?: Captured[]): void {
  mock
    .get(ORIGIN)
    .intercept({ path: (p: string) => p.startsWith('/'), method: 'POST' })
    .reply((opts) => {
      capture?.push({
        path: opts.path,
        headers: Object.fromEntries(Object.entries(opts.headers as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
        body: opts.body as string,
      });
      return { statusCode: status, data: typeof data === 'string' ? data : JSON.stringify(data) };
    });
}

const post = (path: string, body: Record<string, unknown>, extra: { token?: string; signal?: AbortSignal; timeoutMs?: number } = {}) =>
  transport.post(ORIGIN, path, body, { op: 'op', terminalUUID: TERM, timeoutMs: 2000, ...extra });

describe('request shape', () => {
  it('sends the exact headers, signature over the exact body bytes, and the app query', async () => {
    const seen: Captured[] = [];
    replyOnce(200, { error_code: 0, result: { a: 1 } }, seen);
    const result = await post('/api/v2/account/login', { appType: 'Kasa_Android_Mix', cloudUserName: 'ü' });
    expect(result).toEqual({ a: 1 });

    const req = seen[0]!;
    expect(req.body).toBe('{"appType":"Kasa_Android_Mix","cloudUserName":"ü"}');
    const url = new URL(req.path, ORIGIN);
    expect(url.pathname).toBe('/api/v2/account/login');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      appName: 'Kasa_Android_Mix',
      appVer: '3.4.451',
      netType: 'wifi',
      ospf: 'Android 14',
      brand: 'TPLINK',
      locale: 'en_US',
      model: 'Pixel',
      termName: 'Pixel',
      termMeta: 'Pixel',
      termID: TERM,
    });
    expect(req.headers['content-type']).toBe('application/json;charset=UTF-8');
    expect(req.headers['user-agent']).toBe('Dalvik/2.1.0 (Linux; U; Android 14; Pixel Build/UP1A)');
    expect(req.headers['content-md5']).toBe(contentMd5(Buffer.from(req.body, 'utf8')));
    const auth = parseAuthorization(req.headers['x-authorization']!);
    expect(auth).toBeDefined();
    expect(auth!.signature).toBe(computeSignature(KASA_SECRET_KEY, req.headers['content-md5']!, auth!.timestamp, auth!.nonce, '/api/v2/account/login'));
    expect(req.headers['authorization']).toBeUndefined();
    expect(req.headers['accept']).toBeUndefined();
  });

  it('puts the token in the query only when given', async () => {
    const seen: Captured[] = [];
    replyOnce(200, { error_code: 0 }, seen);
    replyOnce(200, { error_code: 0 }, seen);
    await post('/', { method: 'getDeviceList' }, { token: 'tok-1' });
    await post('/api/v2/account/refreshToken', {});
    expect(new URL(seen[0]!.path, ORIGIN).searchParams.get('token')).toBe('tok-1');
    expect(new URL(seen[1]!.path, ORIGIN).searchParams.has('token')).toBe(false);
  });

  it('reports each request to the hook without secrets', async () => {
    replyOnce(200, { error_code: -20651, msg: 'Token expired' });
    await expect(post('/', {}, { token: 'secret-token' })).rejects.toBeInstanceOf(KasaTokenExpiredError);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ op: 'op', host: ORIGIN, outcome: 'cloud_error', errorCode: -20651, errorName: 'KasaTokenExpiredError' });
    expect(JSON.stringify(events)).not.toContain('secret-token');
  });
});

describe('odd replies', () => {
  it('HTTP 500 is a network error with the status', async () => {
    replyOnce(500, 'oops');
    const err = await post('/', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect((err as KasaNetworkError).status).toBe(500);
    expect((err as KasaNetworkError).timeout).toBe(false);
    expect(events[0]).toMatchObject({ outcome: 'network_error', errorCode: -500 });
  });

  it('a non-JSON body is a network error', async () => {
    replyOnce(200, '<html>gateway</html>');
    await expect(post('/', {})).rejects.toThrow(/not JSON/);
  });

  it('JSON that is not an envelope object is a network error', async () => {
    replyOnce(200, '[1,2]');
    await expect(post('/', {})).rejects.toBeInstanceOf(KasaNetworkError);
  });

  it('an envelope without error_code is a protocol error', async () => {
    replyOnce(200, { result: {} });
    await expect(post('/', {})).rejects.toBeInstanceOf(KasaProtocolError);
  });

  it('error_code as a string is understood', async () => {
    replyOnce(200, { error_code: '-20601', msg: 'Incorrect email or password' });
    await expect(post('/', {})).rejects.toBeInstanceOf(KasaUserActionError);
  });

  it.each([['-20677'], [-20677]])('nested result.errorCode %j with error_code 0 is classified', async (nested) => {
    replyOnce(200, { error_code: 0, result: { errorCode: nested, errorMsg: 'MFA feature enabled', MFAProcessId: 'p', supportedMFATypes: [1, 2] } });
    const err = await post('/', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KasaMfaRequiredError);
    expect((err as KasaMfaRequiredError).processId).toBe('p');
    expect((err as KasaMfaRequiredError).mfaTypes).toEqual([1, 2]);
  });

  it.each([['0'], [0]])('nested result.errorCode %j is success', async (nested) => {
    replyOnce(200, { error_code: 0, result: { errorCode: nested, token: 't' } });
    await expect(post('/', {})).resolves.toMatchObject({ token: 't' });
  });

  it('a missing result is an empty object', async () => {
    replyOnce(200, { error_code: 0 });
    await expect(post('/', {})).resolves.toEqual({});
  });

  it('times out quickly with timeout=true', async () => {
    mock.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).reply(200, '{"error_code":0}').delay(2000);
    const started = Date.now();
    const err = await post('/', {}, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KasaNetworkError);
    expect((err as KasaNetworkError).timeout).toBe(true);
    expect((err as Error).message).toMatch(/timed out after 100 ms/);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(events[0]?.outcome).toBe('timeout');
  });

  it('an already aborted signal rejects with the abort reason before sending', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(post('/', {}, { signal: ctl.signal })).rejects.toMatchObject({ name: 'AbortError' });
    expect(events).toHaveLength(0);
  });

  it('aborting mid-flight rejects with the abort reason, not a timeout', async () => {
    mock.get(ORIGIN).intercept({ path: () => true, method: 'POST' }).reply(200, '{"error_code":0}').delay(2000);
    const ctl = new AbortController();
    const pending = post('/', {}, { signal: ctl.signal, timeoutMs: 5000 });
    ctl.abort(new Error('shutting down'));
    await expect(pending).rejects.toThrow('shutting down');
    expect(events[0]?.outcome).toBe('aborted');
  });

  it('refuses to work after close()', async () => {
    await transport.close();
    await expect(post('/', {})).rejects.toThrow(/closed/);
  });
});

describe('trust list', () => {
  it('is system roots + bundled TP-Link CA certificates (no leaf) + extras', () => {
    const extra = '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----';
    const list = buildCaList({ extraCa: [extra] });
    expect(list.slice(0, rootCertificates.length)).toEqual([...rootCertificates]);
    const bundled = list.slice(rootCertificates.length, -1);
    expect(bundled).toHaveLength(3); // intermediate, Tapo root, Kasa root; the expired leaf is skipped
    expect(list.at(-1)).toBe(extra);
    expect(BUNDLED_CA_PATH).toMatch(/certs\/tplink-ca-chain\.pem$/);
  });

  it('names an unreadable KASA_CA_FILE clearly', () => {
    expect(() => buildCaList({ caFile: '/nonexistent/ca.pem' })).toThrow(/KASA_CA_FILE \/nonexistent\/ca\.pem cannot be read \(ENOENT\)/);
  });
});
