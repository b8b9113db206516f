/** Small AbortSignal helpers for the cloud client. */

/**
 * Waits for a shared promise (e.g. the single-flight token refresh) but lets this caller stop
 * waiting when its own signal aborts; the shared work goes on for the other waiters.
 */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(asError(signal.reason));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(asError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(asError(e));
      },
    );
  });
}

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** Detach from the sources; call when the operation is over (idempotent). */
  release(): void;
}

const NOOP = (): void => undefined;

/**
 * A signal that aborts when any source aborts, detached from the sources by `release()`.
 * Replaces AbortSignal.any, which leaves an entry in a long-lived source's dependant-signal set
 * for every call (nodejs/node#55351, #64476): with the client's close signal as a source that was
 * two entries per cloud request, ~0.6 MB/min of heap at 70 requests/s.
 */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const present = sources.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 1) return { signal: present[0]!, release: NOOP };
  const controller = new AbortController();
  const already = present.find((s) => s.aborted);
  if (already) {
    controller.abort(already.reason);
    return { signal: controller.signal, release: NOOP };
  }
  const release = (): void => {
    for (const s of present) s.removeEventListener('abort', onAbort);
  };
  const onAbort = (event: Event): void => {
    release();
    controller.abort((event.target as AbortSignal).reason);
  };
  for (const s of present) s.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release };
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}
