import type { AuthState, HealthSource } from '../../src/health/source.js';

/** A HealthSource whose answers the test sets directly. */
export class FakeHealthSource implements HealthSource {
  mqtt = true;
  commands = true;
  auth: AuthState = 'authenticated';
  lastError: string | undefined;
  total = 3;
  online = 2;
  depth = 0;
  rateLimited = 0;
  until: number | undefined;
  storage: string | undefined;

  mqttConnected(): boolean {
    return this.mqtt;
  }
  mqttCommandsConnected(): boolean {
    return this.commands;
  }
  authState(): AuthState {
    return this.auth;
  }
  authLastError(): string | undefined {
    return this.lastError;
  }
  devicesTotal(): number {
    return this.total;
  }
  devicesOnline(): number {
    return this.online;
  }
  queueDepth(): number {
    return this.depth;
  }
  rateLimitedSeconds(): number {
    return this.rateLimited;
  }
  pausedUntil(): number | undefined {
    return this.until;
  }
  storageError(): string | undefined {
    return this.storage;
  }
}

/**
 * The value of one sample in Prometheus text: `name` exactly, with at least the given labels.
 * Undefined when no such line exists.
 */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = new Map<string, string>();
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found.set(pair[1]!, pair[2]!);
    if (Object.entries(labels).every(([k, v]) => found.get(k) === v)) return Number(match[3]);
  }
  return undefined;
}
