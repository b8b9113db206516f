/**
 * `tapo-passthrough`: SMART requests through the Tapo cloud's V2 passthrough
 * (`/api/v2/common/passthrough`), on a cloud client logged in as the Tapo app.
 */
import type { KasaCloudClient } from './cloudClient.js';
import { KasaProtocolError } from './errors.js';
import type { SmartDeviceRef, SmartTransport } from './smartTransport.js';

export class TapoPassthroughTransport implements SmartTransport {
  readonly name = 'tapo-passthrough' as const;
  private readonly client: KasaCloudClient;

  constructor(client: KasaCloudClient) {
    if (!client.identity.commonEndpoints) {
      throw new Error(`the tapo-passthrough transport needs a cloud client with the Tapo identity, not ${client.identity.name}`);
    }
    this.client = client;
  }

  async request(device: SmartDeviceRef, request: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const answer = await this.client.smartPassthrough(device, request, signal);
    // Every SMART answer carries error_code (docs/protocol.md, "SMART devices"); anything else is not one.
    if (typeof answer['error_code'] !== 'number') {
      throw new KasaProtocolError(`device ${device.deviceId} answered the SMART request without an error_code`, { op: 'smartPassthrough' });
    }
    return answer;
  }
}
