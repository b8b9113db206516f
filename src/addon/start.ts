/**
 * The Home Assistant add-on start path (README.md, "Home Assistant OS: the add-on"): with SUPERVISOR_TOKEN set
 * and the options file present, the options, the Supervisor's MQTT service and its time zone
 * become configuration variables, checked before anything connects.
 */
import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { urlForDisplay } from '../urlForDisplay.js';
import { AddonOptionsError, OPTION_VARIABLES, describeInOptionNames, readOptionVariables } from './options.js';
import { DEFAULT_SUPERVISOR_URL, SupervisorClient, SupervisorError, type MqttService } from './supervisor.js';

export const DEFAULT_OPTIONS_PATH = '/data/options.json';
/** The CA of a TLS Supervisor broker when mqtt_ca_file is empty: config.yaml maps Home Assistant's /ssl. */
export const DEFAULT_SUPERVISOR_CA_PATH = '/ssl/ca.crt';

export interface AddonStartOptions {
  env?: NodeJS.ProcessEnv;
  /** Default `KASA2MQTT_ADDON_OPTIONS` from env, else /data/options.json. DATA_DIR is its directory. */
  optionsPath?: string;
  /** Default `KASA2MQTT_SUPERVISOR_URL` from env, else http://supervisor. */
  supervisorUrl?: string;
  /** Per Supervisor request (default 10 s). */
  timeoutMs?: number;
  /** Default DEFAULT_SUPERVISOR_CA_PATH. */
  supervisorCaPath?: string;
  /** Aborting it (the add-on is stopped during the Supervisor requests) rejects with its reason. */
  signal?: AbortSignal;
}

export interface AddonEnvironment {
  /** Variables to set on top of the process environment. Holds secrets: never log it. */
  env: Record<string, string>;
  /** One line for the log saying where the configuration came from (no secrets). */
  summary: string;
  /** What the add-on starts without (e.g. the time zone), one line each (no secrets). */
  warnings: string[];
}

/** Why the add-on cannot start: one line for the add-on log; the process exits with code 2. */
export class AddonStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AddonStartError';
  }
}

export function addonOptionsPath(options: AddonStartOptions = {}): string {
  const env = options.env ?? process.env;
  return options.optionsPath ?? (env.KASA2MQTT_ADDON_OPTIONS || DEFAULT_OPTIONS_PATH);
}

/** Started by the Supervisor: it hands every add-on a token and writes the options file. */
export function isAddon(options: AddonStartOptions = {}): boolean {
  const env = options.env ?? process.env;
  return Boolean(env.SUPERVISOR_TOKEN) && existsSync(addonOptionsPath(options));
}

/**
 * The configuration variables of an add-on start, or undefined when not started as an add-on.
 * Precedence: the options, then what the Supervisor says, then the environment (the image's ENV).
 * Throws AddonStartError for a missing MQTT service, an unreachable Supervisor or an invalid option.
 */
export async function resolveAddonEnvironment(options: AddonStartOptions = {}): Promise<AddonEnvironment | undefined> {
  const env = options.env ?? process.env;
  if (!isAddon(options)) return undefined;
  const optionsPath = addonOptionsPath(options);
  const supervisorUrl = options.supervisorUrl ?? (env.KASA2MQTT_SUPERVISOR_URL || DEFAULT_SUPERVISOR_URL);
  const supervisor = new SupervisorClient(env.SUPERVISOR_TOKEN ?? '', supervisorUrl, options.timeoutMs, options.signal);

  try {
    const fromOptions = readOptionVariables(optionsPath);
    checkBrokerOptions(fromOptions);
    const fromSupervisor: Record<string, string> = { DATA_DIR: dirname(optionsPath) };
    const warnings: string[] = [];
    let brokerSource = 'the mqtt_url option';
    if (fromOptions.MQTT_URL === undefined) {
      const service = await supervisor.mqttService();
      Object.assign(fromSupervisor, brokerVariables(service));
      if (service.ssl && fromOptions.MQTT_CA_FILE === undefined) {
        const caPath = options.supervisorCaPath ?? DEFAULT_SUPERVISOR_CA_PATH;
        if (existsSync(caPath)) fromSupervisor.MQTT_CA_FILE = caPath;
        else warnings.push(`the Supervisor's MQTT service uses TLS and ${caPath} is missing: set mqtt_ca_file unless the broker's certificate is signed by a public CA`);
      }
      brokerSource = "the Supervisor's MQTT service";
    }
    const timeZone = await timeZoneOrWarn(supervisor, warnings);
    if (timeZone !== undefined) fromSupervisor.TZ = timeZone;

    const variables = { ...fromSupervisor, ...fromOptions };
    validate({ ...env, ...variables }, optionsPath);
    const user = variables.MQTT_USERNAME === undefined ? 'no user name' : `user ${variables.MQTT_USERNAME}`;
    return {
      env: variables,
      summary:
        `Home Assistant add-on: options from ${optionsPath}, broker ${urlForDisplay(variables.MQTT_URL ?? '')} (${user}) from ${brokerSource}, ` +
        `time zone ${timeZone ?? 'not set (UTC)'}, DATA_DIR ${variables.DATA_DIR}`,
      warnings,
    };
  } catch (err) {
    if (err instanceof AddonOptionsError || err instanceof SupervisorError) throw new AddonStartError(err.message);
    throw err;
  }
}

/** The time zone is a convenience: without an answer from /info the add-on starts in UTC. */
async function timeZoneOrWarn(supervisor: SupervisorClient, warnings: string[]): Promise<string | undefined> {
  try {
    return await supervisor.timeZone();
  } catch (err) {
    if (!(err instanceof SupervisorError)) throw err;
    warnings.push(`time zone unknown, using UTC: ${err.message}`);
    return undefined;
  }
}

/** The broker options belong to the broker of mqtt_url; the Supervisor's broker comes with its own user. */
function checkBrokerOptions(fromOptions: Record<string, string>): void {
  if (fromOptions.MQTT_URL === undefined) {
    const set = (['mqtt_username', 'mqtt_password'] as const).filter((option) => fromOptions[OPTION_VARIABLES[option]] !== undefined);
    if (set.length > 0) {
      throw new AddonStartError(
        `invalid add-on options: ${set.join(' and ')} without mqtt_url: they are for the broker of mqtt_url; ` +
          "set mqtt_url, or leave them empty to use the Supervisor's broker and its user",
      );
    }
  }
  const caFile = fromOptions.MQTT_CA_FILE;
  if (caFile !== undefined) {
    try {
      accessSync(caFile, constants.R_OK);
    } catch (err) {
      throw new AddonStartError(`invalid add-on options: mqtt_ca_file: cannot read ${caFile} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
}

/** `{host, port, ssl, username, password}` → MQTT_URL, MQTT_USERNAME, MQTT_PASSWORD. */
export function brokerVariables(service: MqttService): Record<string, string> {
  const host = service.host.includes(':') ? `[${service.host}]` : service.host;
  const variables: Record<string, string> = { MQTT_URL: `${service.ssl ? 'mqtts' : 'mqtt'}://${host}:${service.port}` };
  if (service.username !== undefined) variables.MQTT_USERNAME = service.username;
  if (service.password !== undefined) variables.MQTT_PASSWORD = service.password;
  return variables;
}

/** The same checks as every start, with the problems named after the options the user can change. */
function validate(env: NodeJS.ProcessEnv, optionsPath: string): void {
  try {
    loadConfig({ env, dotenv: false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new AddonStartError(`invalid add-on options (${optionsPath}): ${describeInOptionNames(err.problems).join('; ')}`);
  }
}
