import { describe, expect, it } from 'vitest';
import { methodResult, sysinfoOf } from '../../src/devices/reply.js';

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
    expect(sysinfoOf(reply)).toMatchObject({ relay_state: 1 });
  });

  it('a module-level error hides that module only', () => {
    expect(methodResult(reply, 'emeter', 'get_realtime')).toBeUndefined();
    expect(methodResult(reply, 'system', 'set_relay_state')).toEqual({ err_code: 0 });
  });

  it('a method-level error hides that method', () => {
    expect(methodResult(reply, 'schedule', 'get_rules')).toBeUndefined();
  });

  it('a missing module or method, or a reply that is not an object, is undefined', () => {
    expect(methodResult(reply, 'netif', 'get_stainfo')).toBeUndefined();
    expect(methodResult(reply, 'system', 'get_led')).toBeUndefined();
    expect(methodResult([reply], 'system', 'get_sysinfo')).toBeUndefined();
    expect(methodResult({ system: { get_sysinfo: { err_code: '0', relay_state: 0 } } }, 'system', 'get_sysinfo')).toEqual({ err_code: '0', relay_state: 0 });
  });
});
