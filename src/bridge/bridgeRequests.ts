import type { BridgeRequestErrorCode, BridgeRequestName } from '../api/types.js';

/** A refused bridge request: `code`, `message` and `retryAfter` go out in the response as they are. */
export class RequestError extends Error {
  constructor(
    readonly code: BridgeRequestErrorCode,
    message: string,
    /** When the same request may succeed (`rate_limited`). */
    readonly retryAfter?: Date,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

export type RequestHandler = (body: Record<string, unknown>) => Promise<unknown>;

/**
 * `bridge/request/<cmd>` handlers by name. The part that owns a request registers its handler;
 * the bridge API part only routes, so it needs no reference to the others.
 */
export class BridgeRequests {
  readonly #handlers = new Map<BridgeRequestName, RequestHandler>();

  /** Registers the handler of `name`; returns the unregister function. */
  handle(name: BridgeRequestName, handler: RequestHandler): () => void {
    this.#handlers.set(name, handler);
    return () => {
      if (this.#handlers.get(name) === handler) this.#handlers.delete(name);
    };
  }

  handler(name: string): RequestHandler | undefined {
    return this.#handlers.get(name as BridgeRequestName);
  }
}
