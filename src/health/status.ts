import { topics } from '../api/types.js';
import type { HealthSource } from './source.js';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** Empty when `ok`; otherwise short causes, each starting with its code (`mqtt_disconnected`, `mfa_required: …`). */
  reasons: string[];
  mqtt: 'connected' | 'disconnected';
  auth: string;
  devices: number;
  devices_online: number;
  queue_depth: number;
  /** ISO time background polling resumes, while rate limited. */
  rate_limited_until?: string;
  /** A DATA_DIR file that cannot be saved, and why (no secret). */
  storage_error?: string;
}

/** Auth error codes are short snake_case words; anything else is reported as `auth_error` so nothing odd leaks. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/**
 * Liveness (`GET /healthz`, the watchdog and the image HEALTHCHECK): the process answers, so its
 * event loop runs, and its MQTT connections are up. The cloud session is not part of it: a
 * restart cures no login problem and would only repeat the login.
 */
export function evaluateLiveness(source: HealthSource): HealthReport {
  return report(source, mqttReasons(source), conditions(source));
}

/**
 * Readiness (`GET /readyz`, `bridge/request/health_check`): alive, and the cloud session usable,
 * the cloud answering (not rate limited) and DATA_DIR saving.
 */
export function evaluateReadiness(source: HealthSource, baseTopic: string): HealthReport {
  const reasons = mqttReasons(source);
  switch (source.authState()) {
    case 'authenticated':
      break;
    case 'logging_in':
      reasons.push('logging_in: signing in to the TP-Link cloud');
      break;
    case 'mfa_required':
      reasons.push(`mfa_required: waiting for the code on ${topics(baseTopic).bridgeMfa}`);
      break;
    case 'verifying':
      reasons.push('verifying: checking the MFA code');
      break;
    case 'error': {
      const code = source.authLastError();
      reasons.push(code !== undefined && ERROR_CODE.test(code) ? code : 'auth_error');
      break;
    }
  }
  const found = conditions(source);
  if (found.rate_limited_until !== undefined) reasons.push(`rate_limited: background polling resumes at ${found.rate_limited_until}`);
  if (found.storage_error !== undefined) reasons.push(`storage_error: ${found.storage_error}`);
  return report(source, reasons, found);
}

/** The report's optional fields, read once: readiness also turns them into reasons. */
function conditions(source: HealthSource): Pick<HealthReport, 'rate_limited_until' | 'storage_error'> {
  const until = source.pausedUntil();
  const storageError = source.storageError();
  return {
    ...(until !== undefined && Number.isFinite(until) ? { rate_limited_until: new Date(until).toISOString() } : {}),
    ...(storageError !== undefined ? { storage_error: storageError } : {}),
  };
}

function mqttReasons(source: HealthSource): string[] {
  if (!source.mqttConnected()) return ['mqtt_disconnected'];
  if (!source.mqttCommandsConnected()) return ['mqtt_commands_disconnected: the command connection is down; sets are not received'];
  return [];
}

function report(source: HealthSource, reasons: string[], found: Pick<HealthReport, 'rate_limited_until' | 'storage_error'>): HealthReport {
  return {
    status: reasons.length === 0 ? 'ok' : 'unhealthy',
    reasons,
    mqtt: source.mqttConnected() ? 'connected' : 'disconnected',
    auth: source.authState(),
    devices: source.devicesTotal(),
    devices_online: source.devicesOnline(),
    queue_depth: source.queueDepth(),
    ...found,
  };
}
