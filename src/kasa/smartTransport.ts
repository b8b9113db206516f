/**
 * How SMART (Tapo-protocol) requests reach a device through the cloud: each way is a small adapter
 * behind this interface (docs/protocol.md, "SMART devices"). The bridge picks one per device and
 * remembers which worked (smartTransportChoice.ts); every call goes through the rate-limited
 * scheduler like any other cloud request.
 */

export type SmartTransportName = 'tapo-passthrough' | 'shadows';

/** What a transport needs to know of a device. */
export interface SmartDeviceRef {
  deviceId: string;
  /** Base URL the device's requests go to, from the device list. */
  appServerUrl?: string;
}

export interface SmartTransport {
  readonly name: SmartTransportName;
  /**
   * Sends one SMART request (`{"method":"multipleRequest","params":{"requests":[…]}}` or a single
   * `{"method","params"}`) and resolves to the device's answer in the SMART shape
   * (`{"error_code":0,"result":{…}}`). A transport that carries only part of the protocol (the
   * shadows: on/off) answers the methods it cannot carry with error_code -1002 in their place, so
   * the modules see "not supported" rather than a failure. Rejects with a KasaError for a cloud
   * failure (its `action` says what to do).
   */
  request(device: SmartDeviceRef, request: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>>;
}
