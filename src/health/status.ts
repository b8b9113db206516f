import { topics } from '../api/types.js';
import type { HealthSource } from './source.js';

export interface HealthReport {
  status: 'ok' | 'unhealthy';
  /** Empty when healthy; otherwise short, readable causes (`mqtt_disconnected`, `auth_error: …`). */
  reasons: string[];
  mqtt: 'connected' | 'disconnected';
  auth: string;
  devices: number;
  devices_online: number;
  queue_depth: number;
  /** ISO time background polling resumes, while rate limited. */
  rate_limited_until?: string;
}

/** Auth error codes are short snake_case words; anything else is reported as `unknown` so nothing odd leaks. */
const ERROR_CODE = /^[a-z][a-z0-9_]{0,63}$/;

/** Healthy means MQTT is connected and the cloud session is usable (README.md, "Configuration": HEALTH_PORT). */
export function evaluateHealth(source: HealthSource, baseTopic: string): HealthReport {
  const mqttUp = source.mqttConnected();
  const auth = source.authState();
  const reasons: string[] = [];
  if (!mqttUp) reasons.push('mqtt_disconnected');
  else if (!source.mqttCommandsConnected()) reasons.push('mqtt_commands_disconnected: the command connection is down; sets are not received');
  switch (auth) {
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
      reasons.push(`auth_error: ${code !== undefined && ERROR_CODE.test(code) ? code : 'unknown'}`);
      break;
    }
  }
  const report: HealthReport = {
    status: reasons.length === 0 ? 'ok' : 'unhealthy',
    reasons,
    mqtt: mqttUp ? 'connected' : 'disconnected',
    auth,
    devices: source.devicesTotal(),
    devices_online: source.devicesOnline(),
    queue_depth: source.queueDepth(),
  };
  const until = source.pausedUntil();
  if (until !== undefined && Number.isFinite(until)) report.rate_limited_until = new Date(until).toISOString();
  return report;
}
