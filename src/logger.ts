import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Keys that name a secret or an identity wherever they sit in a logged object (top level and one
 * or two levels deep; pino's redact is path-based). The terminal UUID and the account id are
 * here because logs are pasted into public bug reports, and the terminal UUID with the password
 * skips two-step verification.
 */
const SECRET_KEYS = [
  'password',
  'cloudPassword',
  'KASA_PASSWORD',
  'MQTT_PASSWORD',
  'token',
  'refreshToken',
  'accessToken',
  'mfaCode',
  'verifyCode',
  'authorization',
  'xAuthorization',
  '"x-authorization"',
  'terminalUUID',
  'termID',
  'accountId',
];

/**
 * `code` is a secret only where it is the MFA code: the cloud's MFA check body and the code
 * submitted on `bridge/mfa`. Everywhere else it is an error or reason code a reader needs.
 */
const MFA_CODE_PARENTS = ['body', 'request', 'submission', 'payload'];

export const REDACT_PATHS = [
  ...SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
  ...MFA_CODE_PARENTS.flatMap((parent) => [`${parent}.code`, `*.${parent}.code`]),
];

export interface LoggerOptions {
  level?: LevelWithSilent;
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { name: 'kasa2mqtt' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
