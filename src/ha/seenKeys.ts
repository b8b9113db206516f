/**
 * Which state keys a node's state has carried, for discovery that announces only what the state
 * carries (docs/home-assistant.md). A key counts as gone for good after it has been missing from
 * `forgetAfter` readings in a row, so one odd reading does not drop an entity.
 */
export const DEFAULT_FORGET_AFTER_READINGS = 10;

/** A key taken over from the previous run's discovery gets this many times the budget before its first reading. */
export const SEEDED_BUDGET_FACTOR = 6;

export class SeenKeys {
  readonly #misses = new Map<string, number>();
  /** Keys taken over from the previous run and not carried by a reading since. */
  readonly #seeded = new Set<string>();

  constructor(private readonly forgetAfter = DEFAULT_FORGET_AFTER_READINGS) {}

  /**
   * Keys the previous run announced (its retained discovery): they stay announced across a restart
   * until a reading confirms them or they have been missing for a longer while (a key read once a
   * day may take a while to come back). Returns true when the announced keys changed.
   */
  seed(keys: readonly string[]): boolean {
    let changed = false;
    for (const key of keys) {
      if (this.#misses.has(key)) continue;
      this.#misses.set(key, 0);
      this.#seeded.add(key);
      changed = true;
    }
    return changed;
  }

  /** Records the keys one reading carried. Returns true when the announced keys changed (a new key, or one missing long enough). */
  observe(keys: readonly string[]): boolean {
    const known = this.#misses;
    // Every reading after the first few carries the same keys: settle that without building a set.
    if (keys.length === known.size && keys.every((key) => known.has(key))) {
      for (const key of keys) known.set(key, 0);
      this.#seeded.clear();
      return false;
    }
    const present = new Set(keys);
    let changed = false;
    for (const key of present) {
      if (!known.has(key)) changed = true;
      known.set(key, 0);
      this.#seeded.delete(key);
    }
    for (const [key, misses] of known) {
      if (present.has(key)) continue;
      const budget = this.#seeded.has(key) ? this.forgetAfter * SEEDED_BUDGET_FACTOR : this.forgetAfter;
      if (misses + 1 >= budget) {
        known.delete(key);
        this.#seeded.delete(key);
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
