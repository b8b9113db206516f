import { describe, expect, it } from 'vitest';
import { methodResult, tryMethodResult } from '../../src/kasa/deviceResponse.js';
import { KasaDeviceError } from '../../src/kasa/errors.js';

const reply = {
  system: { get_sysinfo: { relay_state: 1, err_code: 0 }, set_relay_state: { err_code: 0 } },
  emeter: { err_code: -1, err_msg: 'module not support' },
  schedule: { get_rules: { err_code: -2, err_msg: 'member not support' } },
  time: { get_time: { year: 2026 } },
};

describe('methodResult', () => {
  it('returns the method result when err_code is 0 or absent', () => {
    expect(methodResult(reply, 'system', 'get_sysinfo')).toEqual({ relay_state: 1, err_code: 0 });
    expect(methodResult(reply, 'time', 'get_time')).toEqual({ year: 2026 });
  });

  it('throws for a module-level error but the other modules still read', () => {
    let err: unknown;
    try {
      methodResult(reply, 'emeter', 'get_realtime');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(KasaDeviceError);
    expect(err).toMatchObject({ module: 'emeter', errCode: -1, errMsg: 'module not support' });
    expect((err as Error).message).toBe('device answered err_code -1 for emeter "module not support"');
    expect(methodResult(reply, 'system', 'set_relay_state')).toEqual({ err_code: 0 });
  });

  it('throws for a method-level error with module and method', () => {
    expect(() => methodResult(reply, 'schedule', 'get_rules')).toThrow(
      expect.objectContaining({ module: 'schedule', method: 'get_rules', errCode: -2 }),
    );
  });

  it('throws for a missing module or method', () => {
    expect(() => methodResult(reply, 'netif', 'get_stainfo')).toThrow(/no "netif" module/);
    expect(() => methodResult(reply, 'system', 'get_led')).toThrow(/no "system.get_led" result/);
  });

  it('tryMethodResult answers undefined instead of throwing', () => {
    expect(tryMethodResult(reply, 'emeter', 'get_realtime')).toBeUndefined();
    expect(tryMethodResult(reply, 'system', 'get_sysinfo')).toMatchObject({ relay_state: 1 });
  });
});
