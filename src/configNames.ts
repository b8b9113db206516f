/** Prefixes of kasa2mqtt's variables: a name with one of them that is not a variable is likely a typo. */
const OUR_PREFIXES = ['KASA_', 'MQTT_', 'HA_', 'HEALTH_', 'FRONTEND_'];

/**
 * One warning per variable that looks like ours but is not one (KASA_POLL_INTERVALL), naming
 * the known variable closest to it by edit distance.
 */
export function unknownVariableWarnings(names: Iterable<string>, known: readonly string[]): string[] {
  const knownSet = new Set(known);
  const warnings: string[] = [];
  for (const name of names) {
    if (knownSet.has(name) || !OUR_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    warnings.push(`${name} is not a kasa2mqtt variable and is ignored; did you mean ${closest(name, known)}?`);
  }
  return warnings;
}

function closest(name: string, known: readonly string[]): string {
  let best = known[0] ?? '';
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length]!;
}
