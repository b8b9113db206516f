/**
 * A URL as it may be shown (logs, `bridge/info`, `--check-config`, error messages): without its
 * userinfo, so `mqtt://user:pass@host:1883` reads `mqtt://host:1883`. A URL without userinfo is
 * returned as written. The connection itself keeps using the URL as configured.
 */
export function urlForDisplay(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL: whatever stands between the scheme and the last `@` may be a password.
    return url.replace(/^([^:/?#\s]+:\/*).*@/s, '$1');
  }
  if (parsed.username === '' && parsed.password === '') {
    // A mistyped `mqtt:user:pass@host` (no `//`) parses with no host, its userinfo in the path.
    return parsed.host === '' ? url.replace(/^([^:/?#\s]+:\/*)[^?#]*@/s, '$1') : url;
  }
  parsed.username = '';
  parsed.password = '';
  return parsed.toString();
}

/** Configuration variables that hold a URL, by the naming rule every one of them follows. */
export function isUrlVariable(name: string): boolean {
  return name.endsWith('_URL');
}
