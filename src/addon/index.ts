/** The add-on start path as the command line uses it: one call before the configuration is loaded. */
import { resolveAddonEnvironment, type AddonStartOptions } from './start.js';

export { AddonStartError, isAddon, resolveAddonEnvironment, type AddonStartOptions } from './start.js';

/**
 * When started as a Home Assistant add-on, puts the add-on's configuration into `env` (default
 * process.env) and writes where it came from to `log`. Returns false when not an add-on. Throws
 * AddonStartError (one line, exit code 2) when the add-on cannot start.
 */
export async function applyAddonEnvironment(
  log: (line: string) => void,
  options: AddonStartOptions = {},
): Promise<boolean> {
  const env = options.env ?? process.env;
  const addon = await resolveAddonEnvironment({ ...options, env });
  if (!addon) return false;
  // Assigning TZ on process.env also switches Node's local time zone.
  Object.assign(env, addon.env);
  log(addon.summary);
  return true;
}
