/**
 * A URL as it may be shown (logs, `bridge/info`, `--check-config`, error messages): without its
 * userinfo, so `mqtt://user:pass@host:1883` reads `mqtt://host:1883`. A URL without userinfo is
 * returned as written. The connection itself keeps using the URL as configured.
 */
export function urlForDisplay(url: string): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && (parsed.username !== '' || parsed.password !== '')) {
    parsed.username = '';
    parsed.password = '';
    return parsed.toString();
  }
  // Not a URL, or one that parsed with no userinfo although it holds an `@`: an unencoded `/`, `?`
  // or `#` in a password ends the authority early (`mqtt://u:12/3@host` is host `u`, port 12), and
  // a value without its scheme (`user:pass@host:1883`) parses as scheme `user:`. Whatever stands
  // before the last `@` (after a `scheme:/` prefix, if any) may be a password.
  return url.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/+)?.*@/s, '$1');
}

/** Configuration variables that hold a URL, by the naming rule every one of them follows. */
export function isUrlVariable(name: string): boolean {
  return name.endsWith('_URL');
}
