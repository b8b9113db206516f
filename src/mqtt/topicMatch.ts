/**
 * MQTT topic helpers: wildcard matching (`+`, `#`) and validity checks for topic names (publish)
 * and topic filters (subscribe), following MQTT 3.1.1/5 §4.7.
 */

const SHARED_PREFIX = '$share/';

/** The filter without a `$share/<group>/` prefix (shared subscriptions match like the plain filter). */
export function stripSharePrefix(filter: string): string {
  if (!filter.startsWith(SHARED_PREFIX)) return filter;
  const rest = filter.slice(SHARED_PREFIX.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(slash + 1);
}

/**
 * Does `topic` match the subscription `filter`? `+` matches exactly one level, `#` (last level only)
 * matches the parent level and everything below it. A filter starting with a wildcard does not
 * match topics starting with `$` (e.g. `$SYS/...`).
 */
export function topicMatches(filter: string, topic: string): boolean {
  const f = stripSharePrefix(filter).split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i];
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A valid topic name to publish to: non-empty, no wildcards, no NUL. */
export function isValidTopicName(topic: string): boolean {
  return topic.length > 0 && !topic.includes('+') && !topic.includes('#') && !topic.includes('\u0000') && Buffer.byteLength(topic) <= 65535;
}

/** A valid subscription filter: `#` only as the whole last level, `+` only as a whole level. */
export function isValidTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000') || Buffer.byteLength(filter) > 65535) return false;
  const levels = stripSharePrefix(filter).split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    if (level.includes('+')) return level === '+';
    return true;
  });
}
