/**
 * Whether the files in DATA_DIR are being saved: the last failure per file until that file is
 * saved again. Read by `bridge/state`, `/readyz` and the metrics.
 */
export class StorageStatus {
  readonly #failures = new Map<string, string>();
  readonly #listeners = new Set<(error: string | undefined) => void>();

  /** A save of `file` failed: `reason` is short and holds no secret (an errno code and what failed). */
  failed(file: string, reason: string): void {
    const before = this.error;
    this.#failures.set(file, `${file}: ${reason}`);
    this.#changed(before);
  }

  /** A save of `file` succeeded: its earlier failure is over. */
  saved(file: string): void {
    if (!this.#failures.has(file)) return;
    const before = this.error;
    this.#failures.delete(file);
    this.#changed(before);
  }

  /** The failures, joined; undefined while every file saves. */
  get error(): string | undefined {
    return this.#failures.size === 0 ? undefined : [...this.#failures.values()].join('; ');
  }

  /** Calls `listener` whenever `error` changes; answers the unsubscribe. */
  onChange(listener: (error: string | undefined) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(before: string | undefined): void {
    const now = this.error;
    if (now === before) return;
    for (const listener of this.#listeners) listener(now);
  }
}

/** An errno code (`ENOSPC`) or the message, for a storage reason. */
export function storageErrorCode(err: unknown): string {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
}
