/** The add-on start path as the command line uses it: one call before the configuration is loaded. */
import { resolveAddonEnvironment, type AddonStartOptions } from './start.js';

export { AddonStartError, isAddon, resolveAddonEnvironment, type AddonStartOptions } from './start.js';

/** The Supervisor stopped the add-on (SIGTERM) while it was still asking the Supervisor: a clean stop, exit code 0. */
export class AddonStartStopped extends Error {
  constructor(signal: NodeJS.Signals) {
    super(`stopped by ${signal} before the start`);
    this.name = 'AddonStartStopped';
  }
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * When started as a Home Assistant add-on, puts the add-on's configuration into `env` (default
 * process.env) and writes where it came from, and what it starts without, to `log`. Returns false
 * when not an add-on. Throws AddonStartError (one line, exit code 2) when the add-on cannot start,
 * AddonStartStopped when SIGTERM or SIGINT arrives during the Supervisor requests.
 */
export async function applyAddonEnvironment(
  log: (line: string) => void,
  options: AddonStartOptions = {},
): Promise<boolean> {
  const env = options.env ?? process.env;
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => stop.abort(new AddonStartStopped(signal));
  for (const signal of STOP_SIGNALS) process.once(signal, onSignal);
  let addon: Awaited<ReturnType<typeof resolveAddonEnvironment>>;
  try {
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    addon = await resolveAddonEnvironment({ ...options, env, signal });
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
  }
  // A signal between two requests aborted nothing, but it is still a stop.
  if (stop.signal.aborted) throw stop.signal.reason;
  if (!addon) return false;
  // Assigning TZ on process.env also switches Node's local time zone.
  Object.assign(env, addon.env);
  log(addon.summary);
  for (const warning of addon.warnings) log(`warning: ${warning}`);
  return true;
}
