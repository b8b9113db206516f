/**
 * Which state keys each node's state has carried, for discovery that announces only what the
 * state carries (docs/home-assistant.md). A key counts as gone for good after it has been missing from
 * `forgetAfter` readings in a row, so one failed module read does not drop an entity.
 */
export const DEFAULT_FORGET_AFTER_READINGS = 10;

export class SeenKeys {
  readonly #keys = new Map<string, Map<string, number>>();

  constructor(private readonly forgetAfter = DEFAULT_FORGET_AFTER_READINGS) {}

  /**
   * Records the keys one reading of `nodeId` carried. Returns true when the set of announced keys
   * changed (a new key, or one missing long enough to be forgotten).
   */
  observe(nodeId: string, keys: readonly string[]): boolean {
    let known = this.#keys.get(nodeId);
    if (known === undefined) this.#keys.set(nodeId, (known = new Map<string, number>()));
    // Every reading after the first few carries the same keys: settle that without building a set.
    if (keys.length === known.size && keys.every((key) => known.has(key))) {
      for (const key of keys) known.set(key, 0);
      return false;
    }
    const present = new Set(keys);
    let changed = false;
    for (const key of present) {
      if (!known.has(key)) changed = true;
      known.set(key, 0);
    }
    for (const [key, misses] of known) {
      if (present.has(key)) continue;
      if (misses + 1 >= this.forgetAfter) {
        known.delete(key);
        changed = true;
      } else {
        known.set(key, misses + 1);
      }
    }
    return changed;
  }

  /** The keys seen for a node (empty before its first reading). */
  of(nodeId: string): ReadonlySet<string> {
    return new Set(this.#keys.get(nodeId)?.keys() ?? []);
  }

  forget(nodeId: string): void {
    this.#keys.delete(nodeId);
  }
}
