import type { JsonObject } from '../util.js';
import { SimDevice, type Module } from './base.js';

/**
 * A Tapo device as it appears in a Kasa account's device list. The Kasa passthrough cannot reach
 * it (the server answers -20571), so it has no modules of its own.
 */
export class TapoDevice extends SimDevice {
  readonly family = 'tapo' as const;
  protected readonly missingModule = { err_code: -1, err_msg: 'module not support' };
  private on = false;

  sysinfo(): JsonObject {
    const id = this.identity;
    return {
      sw_ver: id.fwVer,
      hw_ver: id.hwVer,
      model: id.model,
      deviceId: id.deviceId,
      alias: id.alias,
      relay_state: this.on ? 1 : 0,
      on_time: 0,
      feature: 'TIM',
      rssi: id.rssi,
      err_code: 0,
    };
  }

  setState(patch: Record<string, unknown>): void {
    if (typeof patch.on === 'boolean') this.on = patch.on;
    if (typeof patch.alias === 'string') this.alias = patch.alias;
  }

  /** Tapo lists carry the alias base64-encoded. */
  override listFields(): JsonObject {
    return { ...super.listFields(), alias: Buffer.from(this.alias, 'utf8').toString('base64') };
  }

  protected modules(): Record<string, Module> {
    return {};
  }
}
