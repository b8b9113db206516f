/**
 * The SMART transport choice: the documented order, failures skipped with a growing wait and
 * tried again after it, `none` with the reasons, the records kept across a restart in a 0600
 * file, storage failures reported, and which errors count against a transport.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  KasaDeviceOfflineError,
  KasaNetworkError,
  KasaNotAuthenticatedError,
  KasaProtocolError,
  KasaRateLimitError,
  KasaShadowVersionError,
  KasaTokenExpiredError,
  KasaTransportUnsupportedError,
} from '../../src/kasa/errors.js';
import {
  SMART_TRANSPORTS_FILE,
  SmartTransportChoice,
  backoffMs,
  failsTransport,
  type SmartTransportChoiceOptions,
} from '../../src/kasa/smartTransportChoice.js';
import { StorageStatus } from '../../src/storageStatus.js';
import { captureLogs } from './simEnv.js';

const MIN = 60_000;
const DEV = 'A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3';
const OTHER = 'C0C1C2C3C4C5C6C7C8C9CACBCCCDCECFD0D1D2D3';

let dataDir: string;
let clock: number;
const logs = captureLogs('debug');

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'kasa-choice-'));
  clock = Date.UTC(2026, 11, 8, 0, 0, 0);
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const make = (options: Partial<SmartTransportChoiceOptions> = {}): SmartTransportChoice =>
  new SmartTransportChoice({ dataDir, logger: logs.logger, now: () => clock, ...options });
const file = (): string => join(dataDir, SMART_TRANSPORTS_FILE);

describe('order', () => {
  it('tries the Tapo passthrough first, then the shadows', () => {
    const choice = make();
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: false });
    choice.failed(DEV, 'tapo-passthrough', '-20571 device offline');
    expect(choice.choose(DEV)).toEqual({ transport: 'shadows', retry: false });
    // Other devices are not affected.
    expect(choice.choose(OTHER)).toEqual({ transport: 'tapo-passthrough', retry: false });
  });

  it('keeps to the transports the bridge has', () => {
    const choice = make({ order: ['shadows'] });
    expect(choice.choose(DEV)).toEqual({ transport: 'shadows', retry: false });
    choice.failed(DEV, 'shadows', 'no shadow');
    expect(choice.choose(DEV)).toMatchObject({ transport: 'none' });
  });
});

describe('backoff and re-try', () => {
  it('waits 5 min, doubling, at most 6 h', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffMs(n) / MIN)).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360]);
  });

  it('skips a failed transport until its wait is over, then tries it again; a success clears it', () => {
    const choice = make();
    choice.failed(DEV, 'tapo-passthrough', 'refused');
    clock += 5 * MIN - 1;
    expect(choice.choose(DEV).transport).toBe('shadows');
    clock += 1;
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
    choice.failed(DEV, 'tapo-passthrough', 'refused again');
    clock += 10 * MIN - 1;
    expect(choice.choose(DEV).transport).toBe('shadows');
    clock += 1;
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
    choice.succeeded(DEV, 'tapo-passthrough');
    expect(choice.working(DEV)).toBe('tapo-passthrough');
    // The next failure starts over at 5 min.
    choice.failed(DEV, 'tapo-passthrough', 'refused');
    clock += 5 * MIN;
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
  });

  it('answers none with every reason and the first end of a wait while all are waiting', () => {
    const choice = make();
    choice.failed(DEV, 'tapo-passthrough', '-20571 device offline');
    clock += MIN;
    choice.failed(DEV, 'shadows', 'the app server has no shadow');
    expect(choice.choose(DEV)).toEqual({
      transport: 'none',
      reason: 'tapo-passthrough: -20571 device offline; shadows: the app server has no shadow',
      retryAt: clock - MIN + 5 * MIN,
    });
    clock += 4 * MIN;
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
  });

  it('a failure of the working transport forgets it', () => {
    const choice = make();
    choice.succeeded(DEV, 'shadows');
    choice.failed(DEV, 'shadows', 'gone');
    expect(choice.working(DEV)).toBeUndefined();
  });
});

describe('remembered in DATA_DIR', () => {
  it('keeps the working transport and the waits across a restart, in a 0600 file and nothing else', () => {
    const first = make();
    first.failed(DEV, 'tapo-passthrough', '-20571');
    first.succeeded(DEV, 'shadows');
    const second = make();
    expect(second.working(DEV)).toBe('shadows');
    expect(second.choose(DEV)).toEqual({ transport: 'shadows', retry: false });
    clock += 5 * MIN;
    expect(second.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
    expect(statSync(file()).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual([SMART_TRANSPORTS_FILE]);
  });

  it('does not rewrite the file when a known transport answers again', () => {
    const choice = make();
    choice.succeeded(DEV, 'shadows');
    writeFileSync(file(), '{"devices":{}}\n');
    choice.succeeded(DEV, 'shadows');
    expect(readFileSync(file(), 'utf8')).toBe('{"devices":{}}\n');
  });

  it('starts empty from a corrupt file or one of another shape, and drops records it cannot read', () => {
    writeFileSync(file(), 'not json');
    expect(make().choose(DEV).transport).toBe('tapo-passthrough');
    writeFileSync(file(), JSON.stringify({ devices: { [DEV]: { working: 'carrier-pigeon', failures: { 'tapo-passthrough': { count: 'x' } } } } }));
    const choice = make();
    expect(choice.working(DEV)).toBeUndefined();
    expect(choice.choose(DEV).transport).toBe('tapo-passthrough');
    expect(logs.text()).toContain('not valid JSON');
  });

  it('caps a stored wait at 6 h (a clock set back)', () => {
    writeFileSync(file(), JSON.stringify({ devices: { [DEV]: { failures: { 'tapo-passthrough': { count: 3, until: clock + 1000 * 60 * MIN, reason: 'r' } } } } }));
    const choice = make();
    clock += 6 * 60 * MIN;
    expect(choice.choose(DEV)).toEqual({ transport: 'tapo-passthrough', retry: true });
  });

  it('forgets devices no longer on the account', () => {
    const choice = make();
    choice.failed(DEV, 'tapo-passthrough', 'x');
    choice.failed(OTHER, 'tapo-passthrough', 'x');
    choice.retain([OTHER]);
    expect(Object.keys(JSON.parse(readFileSync(file(), 'utf8')).devices)).toEqual([OTHER]);
    expect(make().choose(DEV).transport).toBe('tapo-passthrough');
  });

  it('reports a failed save to the storage status and keeps the records in memory', () => {
    const storage = new StorageStatus();
    const notADir = join(dataDir, 'file');
    writeFileSync(notADir, '');
    const choice = new SmartTransportChoice({ dataDir: notADir, logger: logs.logger, storage, now: () => clock });
    choice.failed(DEV, 'tapo-passthrough', 'x');
    expect(storage.error).toMatch(/^smart-transports\.json: not saved \(ENOTDIR\)$/);
    expect(choice.choose(DEV).transport).toBe('shadows');
    // Without a storage status the failure is thrown.
    expect(() => new SmartTransportChoice({ dataDir: notADir, logger: logs.logger }).failed(DEV, 'shadows', 'x')).toThrow(/ENOTDIR/);
  });
});

describe('which failures count against a transport', () => {
  it.each([
    [new KasaTransportUnsupportedError('no shadow'), true],
    [new KasaDeviceOfflineError('-20571'), true],
    [new KasaProtocolError('403 missing appCid'), true],
    [new KasaNetworkError('timeout', { timeout: true }), false],
    [new KasaNetworkError('HTTP 500', { status: 500 }), false],
    [new KasaRateLimitError('-20004'), false],
    [new KasaTokenExpiredError('401'), false],
    [new KasaNotAuthenticatedError('no session'), false],
    [new KasaShadowVersionError('11000 twice'), false],
    [new Error('not a cloud error'), false],
  ])('%s → %s', (err, counts) => {
    expect(failsTransport(err)).toBe(counts);
  });
});
