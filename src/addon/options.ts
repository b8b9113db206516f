/**
 * The add-on's options (`/data/options.json`, written by the Supervisor from config.yaml's
 * schema) and the configuration variables each one sets.
 */
import { readFileSync } from 'node:fs';
import type { Config } from '../config.js';

/** Option name → configuration variable. kasa2mqtt/config.yaml's schema lists exactly these keys. */
export const OPTION_VARIABLES = {
  kasa_username: 'KASA_USERNAME',
  kasa_password: 'KASA_PASSWORD',
  poll_interval: 'KASA_POLL_INTERVAL',
  log_level: 'LOG_LEVEL',
  base_topic: 'MQTT_BASE_TOPIC',
  discovery_prefix: 'HA_DISCOVERY_PREFIX',
  mqtt_url: 'MQTT_URL',
  mqtt_username: 'MQTT_USERNAME',
  mqtt_password: 'MQTT_PASSWORD',
  mqtt_ca_file: 'MQTT_CA_FILE',
} as const satisfies Record<string, keyof Config>;

export type OptionName = keyof typeof OPTION_VARIABLES;

/** A problem with the options file, worded for the add-on's Configuration tab. */
export class AddonOptionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddonOptionsError';
  }
}

/**
 * Reads the options file and turns every option that is set into its configuration variable.
 * Unknown keys are ignored (the Supervisor keeps options that a newer version removed); an empty
 * or null value counts as not set, as an empty variable does.
 */
export function readOptionVariables(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AddonOptionsError(`cannot read the add-on options ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AddonOptionsError(`the add-on options ${path} are not valid JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new AddonOptionsError(`the add-on options ${path} are not a JSON object`);
  }
  const options = parsed as Record<string, unknown>;
  const variables: Record<string, string> = {};
  const problems: string[] = [];
  for (const [option, variable] of Object.entries(OPTION_VARIABLES)) {
    const value = options[option];
    if (value === undefined || value === null || value === '') continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      variables[variable] = String(value);
    } else {
      problems.push(`${option}: must be a single value, not ${Array.isArray(value) ? 'a list' : 'an object'}`);
    }
  }
  if (problems.length > 0) throw new AddonOptionsError(`invalid add-on options: ${problems.join('; ')}`);
  return variables;
}

/**
 * Rewords configuration problems (`KASA_POLL_INTERVAL: must be …`) with the option names the
 * user sees in Home Assistant (`poll_interval: must be …`). Variables that are no option keep
 * their name.
 */
export function describeInOptionNames(problems: readonly string[]): string[] {
  return problems.map((problem) => {
    let text = problem.replace(/ \(or [A-Z_]+_FILE\)/, '');
    for (const [option, variable] of Object.entries(OPTION_VARIABLES)) {
      text = text.replace(new RegExp(`\\b${variable}\\b`, 'g'), option);
    }
    return text;
  });
}
