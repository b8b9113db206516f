import { readFileSync } from 'node:fs';
import { readDotenv } from './configDotenv.js';
import { unknownVariableWarnings } from './configNames.js';
import { Type, validateEnv, type EnvProblem, type Static } from './configSchema.js';
import { isUrlVariable, urlForDisplay } from './urlForDisplay.js';

/**
 * The one source of truth for configuration (README.md, "Configuration"). The README table and
 * config.example.env are checked against this schema by a test.
 */
export const ConfigSchema = Type.Object({
  KASA_USERNAME: Type.String({ minLength: 1, description: 'TP-Link account e-mail' }),
  KASA_PASSWORD: Type.String({
    minLength: 1,
    description: 'account password; never logged, never published',
  }),
  KASA_CLOUD_URL: Type.String({
    default: 'https://n-wap.tplinkcloud.com',
    pattern: '^https?://[^\\s/]+(:\\d+)?/?$',
    description: 'global entry host; tests and other regions override it (http or https)',
  }),
  KASA_CA_FILE: Type.Optional(
    Type.String({ minLength: 1, description: 'extra PEM roots, added to the system roots and the bundled TP-Link roots' }),
  ),
  KASA_POLL_INTERVAL: Type.Number({ default: 60, minimum: 0.1, description: 'seconds between state polls of each device' }),
  KASA_ENERGY_POLL_INTERVAL: Type.Number({
    default: 300,
    minimum: 0.1,
    description: 'seconds between energy reads that cost extra requests (per-outlet meters)',
  }),
  KASA_DEVICE_LIST_INTERVAL: Type.Number({ default: 600, minimum: 0.1, description: 'seconds between device-list refreshes' }),
  KASA_RATE_LIMIT: Type.Integer({
    default: 60,
    minimum: 1,
    description: 'most cloud requests per minute, all kinds together (token bucket)',
  }),
  KASA_RATE_BURST: Type.Integer({ default: 5, minimum: 1, description: 'bucket size: an isolated command is never delayed' }),
  KASA_CONCURRENCY: Type.Integer({ default: 4, minimum: 1, maximum: 64, description: 'cloud requests in flight at once' }),
  KASA_REQUEST_TIMEOUT: Type.Number({
    default: 20,
    minimum: 0.05,
    description: 'seconds before one account or device-list request is abandoned',
  }),
  KASA_PASSTHROUGH_TIMEOUT: Type.Number({
    default: 120,
    minimum: 0.05,
    description: 'seconds before one device passthrough is abandoned (the cloud holds it while it wakes the device)',
  }),
  KASA_TRACE: Type.Boolean({
    default: false,
    description: 'every cloud request and answer on stderr as one JSON line, secrets replaced (for bug reports)',
  }),
  KASA_MFA_TIMEOUT: Type.Number({ default: 600, minimum: 1, description: 'seconds an MFA round stays open waiting for a code' }),
  DATA_DIR: Type.String({
    default: './data',
    minLength: 1,
    description: 'session and topic-key store; created 0700, files 0600 (`/data` in the image)',
  }),
  MQTT_URL: Type.String({
    default: 'mqtt://localhost:1883',
    pattern: '^(mqtts?|wss?)://',
    description: 'broker URL: `mqtt://`, `mqtts://`, `ws://`, `wss://`; a `user:password@` in it is used but never shown',
  }),
  MQTT_USERNAME: Type.Optional(Type.String({ minLength: 1, description: 'broker user name' })),
  MQTT_PASSWORD: Type.Optional(Type.String({ minLength: 1, description: 'broker password' })),
  MQTT_CLIENT_ID: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'MQTT client id; default `kasa2mqtt_<8 hex>`, made once and kept in DATA_DIR',
    }),
  ),
  MQTT_CA_FILE: Type.Optional(Type.String({ minLength: 1, description: 'PEM CA for TLS to the broker' })),
  MQTT_CERT_FILE: Type.Optional(Type.String({ minLength: 1, description: 'client certificate (PEM) for TLS to the broker' })),
  MQTT_KEY_FILE: Type.Optional(Type.String({ minLength: 1, description: 'client key (PEM) for TLS to the broker' })),
  MQTT_REJECT_UNAUTHORIZED: Type.Boolean({ default: true, description: 'verify the broker certificate' }),
  MQTT_COMMAND_CONNECTION: Type.Boolean({
    default: true,
    description: 'receive `set`/`get` on a second connection (`<client id>_cmd`), so a stock broker adds no 40 ms per command; falls back to one connection if the broker refuses it',
  }),
  MQTT_BASE_TOPIC: Type.String({
    default: 'kasa',
    pattern: '^[^#+/\\s]([^#+\\s]*[^#+/\\s])?$',
    description: 'everything below it is the bridge\'s',
  }),
  HA_DISCOVERY: Type.Boolean({ default: true, description: 'publish Home Assistant discovery' }),
  HA_DISCOVERY_PREFIX: Type.String({
    default: 'homeassistant',
    pattern: '^[^#+/\\s]([^#+\\s]*[^#+/\\s])?$',
    description: 'Home Assistant discovery prefix',
  }),
  HA_STATUS_TOPIC: Type.String({
    default: 'homeassistant/status',
    pattern: '^[^#+\\s]+$',
    description: 'Home Assistant birth/LWT topic to watch',
  }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    description: 'pino log level',
  }),
  HEALTH_PORT: Type.Integer({
    default: 0,
    minimum: 0,
    maximum: 65535,
    description: 'when set: `GET /healthz` (liveness), `GET /readyz` (readiness) and `GET /metrics` on this port (0 = off)',
  }),
  HEALTH_HOST: Type.String({
    default: '127.0.0.1',
    minLength: 1,
    description: 'address the health server listens on (`0.0.0.0` in the image)',
  }),
});

export type Config = Static<typeof ConfigSchema>;

/** Variables that hold secrets: never printed, never published. */
export const SECRET_VARIABLES = ['KASA_PASSWORD', 'MQTT_PASSWORD'] as const satisfies readonly (keyof Config)[];

/** Secrets that may instead be read from a file (`<NAME>_FILE`, Docker secrets). */
const FILE_VARIABLES = SECRET_VARIABLES;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Read `.env` from the working directory (default true). */
  dotenv?: boolean | { path: string };
  /** Receives one line per variable that looks like ours but is not one (a typo); none by default. */
  onWarning?: (message: string) => void;
}

/** Validates every variable at once; throws ConfigError listing each problem by variable name. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const dotenv = readDotenv(options.dotenv ?? true);
  // The environment wins over `.env`.
  const env: Record<string, string | undefined> = { ...dotenv.values, ...(options.env ?? process.env) };
  const problems: string[] = [...dotenv.problems];
  const known = [...Object.keys(ConfigSchema.properties), ...FILE_VARIABLES.map((name) => `${name}_FILE`)];
  for (const warning of unknownVariableWarnings(Object.keys(env), known)) options.onWarning?.(warning);
  const unreadable = new Set<string>();

  for (const name of FILE_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const path = env[fileVar];
    if (path === undefined || path === '') continue;
    if (env[name] !== undefined && env[name] !== '') {
      problems.push(`${name}: set either ${name} or ${fileVar}, not both`);
      continue;
    }
    try {
      env[name] = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
    } catch (err) {
      problems.push(`${fileVar}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      unreadable.add(name);
    }
  }
  for (const key of Object.keys(env)) {
    // An empty variable means "not set", as in docker-compose `FOO=` lines.
    if (env[key] === '') delete env[key];
  }

  const validated = validateEnv(ConfigSchema, env);
  const reported = validated.problems.filter((p) => !(p.keyword === 'required' && unreadable.has(p.name)));
  problems.push(...reported.map((p) => describeProblem(p, env)));
  const config: Config | undefined = validated.problems.length === 0 ? validated.value : undefined;
  if (config && config.MQTT_BASE_TOPIC === config.HA_DISCOVERY_PREFIX) {
    problems.push('HA_DISCOVERY_PREFIX: must differ from MQTT_BASE_TOPIC');
  }
  if (config && !URL.canParse(config.MQTT_URL)) {
    // Passes the scheme pattern (`mqtt://[bad`) yet would stop the daemon with "Invalid URL", exit 1.
    problems.push(`MQTT_URL: not a valid URL (got ${JSON.stringify(urlForDisplay(config.MQTT_URL))})`);
  }
  if (config && (config.MQTT_CERT_FILE === undefined) !== (config.MQTT_KEY_FILE === undefined)) {
    problems.push('MQTT_CERT_FILE: MQTT_CERT_FILE and MQTT_KEY_FILE go together');
  }
  if (problems.length > 0 || !config) throw new ConfigError([...new Set(problems)]);
  return config;
}

function describeProblem(e: EnvProblem, env: Record<string, string | undefined>): string {
  const name = e.name;
  if (e.keyword === 'required') {
    const fileHint = (FILE_VARIABLES as readonly string[]).includes(name) ? ` (or ${name}_FILE)` : '';
    return `${name}: required${fileHint}`;
  }
  const schema = (ConfigSchema.properties as unknown as Record<string, Record<string, unknown>>)[name] ?? {};
  const isSecret = (SECRET_VARIABLES as readonly string[]).includes(name);
  const value = env[name];
  const shown = value !== undefined && isUrlVariable(name) ? urlForDisplay(value) : value;
  const got = isSecret || shown === undefined ? '' : ` (got ${JSON.stringify(shown)})`;
  let allowed: string;
  switch (e.keyword) {
    case 'enum':
      allowed = `one of ${(schema.enum as string[]).join(', ')}`;
      break;
    case 'minimum':
    case 'maximum':
    case 'type':
      allowed = describeNumberRange(schema);
      break;
    case 'pattern':
      allowed = `must match ${String(schema.pattern)}`;
      break;
    case 'minLength':
      allowed = `must be at least ${String(schema.minLength)} characters`;
      break;
    case 'maxLength':
      allowed = `must be at most ${String(schema.maxLength)} characters`;
      break;
  }
  return `${name}: ${allowed}${got}`;
}

function describeNumberRange(schema: Record<string, unknown>): string {
  const kind = schema.type === 'integer' ? 'a whole number' : schema.type === 'boolean' ? 'true or false (yes/no, on/off, 1/0 also accepted)' : 'a number';
  if (schema.type === 'boolean') return `must be ${kind}`;
  const min = schema.minimum as number | undefined;
  const max = schema.maximum as number | undefined;
  if (min !== undefined && max !== undefined) return `must be ${kind} from ${min} to ${max}`;
  if (min !== undefined) return `must be ${kind} >= ${min}`;
  return `must be ${kind}`;
}

/** The effective config with secrets masked, for `--check-config` and logs. */
export function maskConfig(config: Config): Record<string, unknown> {
  const masked: Record<string, unknown> = forDisplay(config);
  for (const name of SECRET_VARIABLES) {
    if (masked[name] !== undefined) masked[name] = '********';
  }
  return masked;
}

/** The config as published on `bridge/info`: secrets removed entirely, the account e-mail masked. */
export function publicConfig(config: Config): Record<string, unknown> {
  const pub: Record<string, unknown> = forDisplay(config);
  for (const name of SECRET_VARIABLES) delete pub[name];
  pub.KASA_USERNAME = maskEmail(config.KASA_USERNAME);
  return pub;
}

export function maskEmail(email: string): string {
  const at = email.indexOf('@');
  if (at <= 0) return `${email.slice(0, 1)}***`;
  return `${email.slice(0, 1)}***${email.slice(at)}`;
}

/** The config in schema order, URLs without their userinfo. */
function forDisplay(config: Config): Record<string, unknown> {
  const ordered: Record<string, unknown> = {};
  for (const key of Object.keys(ConfigSchema.properties)) {
    const value = (config as Record<string, unknown>)[key];
    if (value !== undefined) ordered[key] = typeof value === 'string' && isUrlVariable(key) ? urlForDisplay(value) : value;
  }
  return ordered;
}
