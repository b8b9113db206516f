import { describe, expect, it } from 'vitest';
import {
  KasaDeviceOfflineError,
  KasaError,
  KasaMfaCodeError,
  KasaMfaRequiredError,
  KasaNetworkError,
  KasaProtocolError,
  KasaRateLimitError,
  KasaRefreshExpiredError,
  KasaTokenExpiredError,
  KasaUserActionError,
  KasaWrongRegionError,
  classifyCloudError,
  mfaTypes,
  parseCode,
  sanitizeCloudMessage,
} from '../../src/kasa/errors.js';

describe('classifyCloudError', () => {
  it.each([
    [-20004, 'API rate limit exceeded', KasaRateLimitError, 'back_off'],
    [-20651, 'Token expired', KasaTokenExpiredError, 'refresh'],
    [-20655, 'Refresh token expired', KasaRefreshExpiredError, 'relogin'],
    [-20677, 'MFA feature enabled', KasaMfaRequiredError, 'mfa'],
    [-20571, 'Device is offline', KasaDeviceOfflineError, 'device_offline'],
    [-20104, "Parameter doesn't exist", KasaProtocolError, 'report'],
    [-20103, 'Method does not exist', KasaProtocolError, 'report'],
    [-20573, undefined, KasaProtocolError, 'report'],
    [-20212, 'Incorrect service entry address', KasaWrongRegionError, 'retry'],
    [-99999, 'something new', KasaProtocolError, 'report'],
  ] as const)('maps %i to its class and action', (code, msg, cls, action) => {
    const err = classifyCloudError(code, msg, undefined, { op: 'login', host: 'https://h' });
    expect(err).toBeInstanceOf(cls);
    expect(err).toBeInstanceOf(KasaError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(code);
    expect(err.action).toBe(action);
    expect(err.op).toBe('login');
    expect(err.name).toBe(cls.name);
    expect(err.message).toContain(String(code));
    expect(err.message).toContain('login to https://h');
  });

  it.each([
    [-20601, 'credentials_invalid'],
    [-20675, 'account_locked'],
    [-20600, 'account_not_found'],
    [-23003, 'app_rejected'],
  ] as const)('maps %i to a user action (%s)', (code, reason) => {
    const err = classifyCloudError(code, 'x', { remainAttempts: 2, lockedMinutes: '30' });
    expect(err).toBeInstanceOf(KasaUserActionError);
    expect((err as KasaUserActionError).reason).toBe(reason);
    expect(err.action).toBe('ask_user');
  });

  it('carries attempt counters of a wrong password', () => {
    const err = classifyCloudError(-20601, 'Incorrect email or password', { remainAttempts: 3 }) as KasaUserActionError;
    expect(err.attemptsLeft).toBe(3);
  });

  it('recognises a blackList answer whatever its code', () => {
    for (const code of [-20004, -20005, -1]) {
      const err = classifyCloudError(code, 'Access denied request in blackList');
      expect(err).toBeInstanceOf(KasaRateLimitError);
      expect((err as KasaRateLimitError).blacklisted).toBe(true);
    }
    expect((classifyCloudError(-20004, 'API rate limit exceeded') as KasaRateLimitError).blacklisted).toBe(false);
  });

  it('reads MFA process id in either spelling and types as ints or strings', () => {
    const a = classifyCloudError(-20677, 'MFA', { MFAProcessId: 'p1', supportedMFATypes: [1, 2] }) as KasaMfaRequiredError;
    expect(a.processId).toBe('p1');
    expect(a.mfaTypes).toEqual([1, 2]);
    const b = classifyCloudError(-20677, 'MFA', { mfaProcessId: 'p2', supportedMFATypes: ['email'] }) as KasaMfaRequiredError;
    expect(b.processId).toBe('p2');
    expect(b.mfaTypes).toEqual([2]);
    const c = classifyCloudError(-20677, 'MFA', { supportedMFATypes: ['1', 'push', 2] }) as KasaMfaRequiredError;
    expect(c.processId).toBeUndefined();
    expect(c.mfaTypes).toEqual([1, 2]);
  });

  it('reads the region redirect target', () => {
    const err = classifyCloudError(-20212, 'x', { appServerUrl: 'https://n-euw1-wap.tplinkcloud.com' }) as KasaWrongRegionError;
    expect(err.appServerUrl).toBe('https://n-euw1-wap.tplinkcloud.com');
  });

  it('keeps the device id of an offline device', () => {
    const err = classifyCloudError(-20571, 'Device is offline', undefined, { op: 'passthrough', deviceId: 'ABC' });
    expect((err as KasaDeviceOfflineError).deviceId).toBe('ABC');
  });

  describe('on checkMFACodeAndLogin', () => {
    const ctx = { op: 'checkMFACodeAndLogin' };

    it('a credential-style code is a wrong MFA code with attempts left', () => {
      const err = classifyCloudError(-20601, 'Incorrect verification code', { remainAttempts: 4 }, ctx);
      expect(err).toBeInstanceOf(KasaMfaCodeError);
      expect((err as KasaMfaCodeError).attemptsLeft).toBe(4);
      expect((err as KasaMfaCodeError).expired).toBe(false);
      expect(err.action).toBe('mfa');
    });

    it('a dead process is an expired round', () => {
      const err = classifyCloudError(-20104, 'MFA process does not exist or has expired', undefined, ctx);
      expect(err).toBeInstanceOf(KasaMfaCodeError);
      expect((err as KasaMfaCodeError).expired).toBe(true);
    });

    it('no attempts left ends the round', () => {
      const err = classifyCloudError(-20601, 'Incorrect verification code', { remainAttempts: 0 }, ctx);
      expect((err as KasaMfaCodeError).expired).toBe(true);
    });

    it('a lock or a throttle keeps its own class', () => {
      expect(classifyCloudError(-20675, 'locked', undefined, ctx)).toBeInstanceOf(KasaUserActionError);
      expect(classifyCloudError(-20004, 'rate', undefined, ctx)).toBeInstanceOf(KasaRateLimitError);
      expect(classifyCloudError(-20104, "Parameter doesn't exist", undefined, ctx)).toBeInstanceOf(KasaProtocolError);
    });
  });

  it('never echoes secrets it was not given and trims hostile messages', () => {
    const long = `line1\nline2\u0000${'x'.repeat(500)}`;
    const err = classifyCloudError(-1, long);
    expect(err.message).not.toContain('\n');
    expect(err.message).not.toContain('\u0000');
    expect(err.message.length).toBeLessThan(300);
  });
});

describe('helpers', () => {
  it('parseCode accepts ints and numeric strings only', () => {
    expect(parseCode(0)).toBe(0);
    expect(parseCode('0')).toBe(0);
    expect(parseCode('-20677')).toBe(-20677);
    expect(parseCode(-20677)).toBe(-20677);
    expect(parseCode('abc')).toBeUndefined();
    expect(parseCode(1.5)).toBeUndefined();
    expect(parseCode(null)).toBeUndefined();
  });

  it('mfaTypes normalises and dedupes', () => {
    expect(mfaTypes([2, '2', 'email'])).toEqual([2]);
    expect(mfaTypes('email')).toEqual([]);
    expect(mfaTypes(['sms'])).toEqual([]);
  });

  it('sanitizeCloudMessage drops empty and non-string values', () => {
    expect(sanitizeCloudMessage('  ')).toBeUndefined();
    expect(sanitizeCloudMessage(42)).toBeUndefined();
    expect(sanitizeCloudMessage(' ok ')).toBe('ok');
  });

  it('network errors carry timeout and status', () => {
    const err = new KasaNetworkError('x', { timeout: true, status: 503 });
    expect(err.timeout).toBe(true);
    expect(err.status).toBe(503);
    expect(err.action).toBe('pause');
    expect(new KasaNetworkError('z', { timeout: true }).action).toBe('retry');
    expect(new KasaNetworkError('y').timeout).toBe(false);
  });
});
