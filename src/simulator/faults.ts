import type { SimFaults } from './types.js';

export function defaultFaults(): SimFaults {
  return {
    http500: 0,
    delayMs: 0,
    nestedMfa: false,
    responseDataAsObject: false,
    throttle: false,
    blackList: false,
    emptyDeviceList: false,
    holdPassthroughMs: 0,
    unknownLoginAnswer: false,
    tapoMfa: false,
    smartListedOffline: false,
  };
}

/** Resets in place: `Simulator.faults` is a readonly reference that callers mutate. */
export function resetFaults(faults: SimFaults): void {
  Object.assign(faults, defaultFaults());
}
