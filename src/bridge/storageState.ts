import type { BridgeStatePayload } from '../api/types.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';

/**
 * `storage_error` on `<base>/bridge/state` while a DATA_DIR file cannot be saved (full disk,
 * read-only volume); the plain `{"state":"online"}` again once a later save succeeds.
 */
export class StorageStatePart extends PartBase {
  readonly name = 'storage state';

  constructor(ctx: BridgeContext) {
    super(ctx);
  }

  override async start(): Promise<void> {
    const { storage } = this.ctx;
    this.onStop(storage.onChange((error) => this.#publish(error)));
    if (storage.error !== undefined) this.#publish(storage.error);
  }

  #publish(error: string | undefined): void {
    const payload: BridgeStatePayload = error === undefined ? { state: 'online' } : { state: 'online', storage_error: error };
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeState, payload, { retain: true });
  }
}
