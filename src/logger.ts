import { pino, type Logger, type DestinationStream, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

/**
 * Every key that may carry a secret, wherever it sits in a logged object. pino's redact is
 * path-based, so each secret name is listed at the top level and one/two levels deep.
 */
const SECRET_KEYS = [
  'password',
  'cloudPassword',
  'KASA_PASSWORD',
  'MQTT_PASSWORD',
  'token',
  'refreshToken',
  'accessToken',
  'code',
  'mfaCode',
  'authorization',
  'xAuthorization',
  '"x-authorization"',
];

export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

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
