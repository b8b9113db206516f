/**
 * Which state keys a node's state has carried, for discovery that announces only what the state
 * carries (docs/home-assistant.md). A key counts as gone for good after it has been missing from
 * `forgetAfter` readings in a row, so one odd reading does not drop an entity.
 */
export const DEFAULT_FORGET_AFTER_READINGS = 10;

export class SeenKeys {
  readonly #misses = new Map<string, number>();

  constructor(private readonly forgetAfter = DEFAULT_FORGET_AFTER_READINGS) {}

  /** Records the keys one reading carried. Returns true when the announced keys changed (a new key, or one missing long enough). */
  observe(keys: readonly string[]): boolean {
    const known = this.#misses;
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

  /** The keys seen (empty before the first reading). */
  keys(): ReadonlySet<string> {
    return new Set(this.#misses.keys());
  }
}
