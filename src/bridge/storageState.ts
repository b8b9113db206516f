import type { BridgeStatePayload } from '../api/types.js';
import type { BridgeContext, BridgePart } from './context.js';

/**
 * `storage_error` on `<base>/bridge/state` while a DATA_DIR file cannot be saved (full disk,
 * read-only volume); the plain `{"state":"online"}` again once a later save succeeds.
 */
export class StorageStatePart implements BridgePart {
  readonly name = 'storage state';
  #off: (() => void) | undefined;

  constructor(private readonly ctx: BridgeContext) {}

  async start(): Promise<void> {
    const { storage } = this.ctx;
    this.#off = storage.onChange((error) => this.#publish(error));
    if (storage.error !== undefined) this.#publish(storage.error);
  }

  async stop(): Promise<void> {
    this.#off?.();
    this.#off = undefined;
  }

  #publish(error: string | undefined): void {
    const payload: BridgeStatePayload = error === undefined ? { state: 'online' } : { state: 'online', storage_error: error };
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeState, payload, { retain: true });
  }
}
