import type { Logger } from '../logger.js';

export interface MqttConnectionOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  /** TLS material, inline or as a path (read by start()). */
  ca?: string | Buffer;
  caFile?: string;
  cert?: string | Buffer;
  certFile?: string;
  key?: string | Buffer;
  keyFile?: string;
  /** Default true. */
  rejectUnauthorized?: boolean;
  baseTopic: string;
  /** HA_DISCOVERY_PREFIX: answers to requests never go below it (see responseTopics.ts). */
  discoveryPrefix?: string;
  logger: Logger;
  /** Reconnect backoff bounds (doubling per failed attempt, reset on connect). Defaults 1000 / 5000. */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  /** First protocol to try. Default 5; falls back to 4 (3.1.1) when the broker refuses 5. */
  protocolVersion?: 4 | 5;
  /** Most distinct topics kept while disconnected (newest per topic). Default 10000. */
  maxBufferedTopics?: number;
  /** Bound on stop(). Default 2000. */
  stopTimeoutMs?: number;
  /** Seconds. Default 30. */
  keepalive?: number;
  /** CONNACK wait per attempt. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Subscriptions made with `lane: 'commands'` go on a second, receive-only connection
   * (`<clientId>_cmd`), opened after the first CONNACK; see commandLane.ts. Default false.
   */
  commandConnection?: boolean;
  /**
   * The command connection itself: no will, no birth or retained restore, protocol fixed; a broker
   * that refuses it (a CONNACK error, or three closes before any CONNACK) is reported as `refused`.
   */
  receiveOnly?: boolean;
}

export interface PublishProperties {
  correlationData?: Buffer;
  responseTopic?: string;
  contentType?: string;
  messageExpiryInterval?: number;
  userProperties?: Record<string, string | string[]>;
}

export interface PublishOptions {
  /** Default false. An empty retained payload clears the topic (and drops it from the registry). */
  retain?: boolean;
  /** Default 1. */
  qos?: 0 | 1;
  /** MQTT 5 only; dropped under 3.1.1. */
  properties?: PublishProperties;
}

export interface MqttConnectionEvents {
  /** After `online` was published and acknowledged, retained topics restored and subscriptions in place. */
  connected: [];
  disconnected: [];
  /** Receive-only connections: the broker will not take this client (why, for the log). */
  refused: [reason: string];
}

export interface Outgoing {
  topic: string;
  payload: string | Buffer;
  qos: 0 | 1;
  retain: boolean;
  properties?: PublishProperties;
}

/** Errors carrying a string `code` come from the transport (ECONNREFUSED, TLS…), not from the broker. */
export function transportCode(err: Error): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
