import { randomUUID } from 'node:crypto';
import { createLogger } from '../../src/logger.js';
import { MqttConnection, type MqttConnectionOptions } from '../../src/mqtt/connection.js';

/** Test logger: silent unless TEST_LOG_LEVEL is set (e.g. TEST_LOG_LEVEL=debug). */
export const testLogger = createLogger({ level: (process.env.TEST_LOG_LEVEL ?? 'silent') as 'silent' });

/** A unique base topic per test, so retained state of one test never leaks into another. */
export function uniqueBase(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

/** A connection with fast reconnects, not started yet. */
export function makeConnection(url: string, overrides: Partial<MqttConnectionOptions> = {}): MqttConnection {
  return new MqttConnection({
    url,
    clientId: `kasa2mqtt_test_${randomUUID().slice(0, 8)}`,
    baseTopic: uniqueBase(),
    logger: testLogger,
    rejectUnauthorized: true,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    ...overrides,
  });
}

/**
 * Whether TCP_NODELAY is on for `socket`, as Node recorded it when setNoDelay() reached the socket's
 * handle (an internal symbol; undefined when this Node keeps no such record).
 */
export function noDelayOf(socket: object): boolean | undefined {
  const record = Object.getOwnPropertySymbols(socket).find((s) => s.description === 'kSetNoDelay');
  return record === undefined ? undefined : (socket as Record<symbol, boolean>)[record];
}

export const NO_NODELAY_RECORD = 'this Node keeps no record of TCP_NODELAY on its sockets';
