import type { CommandErrorCode } from '../api/types.js';
import { SchedulerStoppedError } from '../scheduler/scheduler.js';
import { KasaError, commandFailureCode } from '../kasa/errors.js';

/** The bridge cannot use the cloud session right now (login, MFA or error state). */
export class SessionUnavailableError extends Error {
  constructor() {
    super('the cloud session is not usable: see kasa/bridge/auth (log in or submit the MFA code)');
    this.name = 'SessionUnavailableError';
  }
}

/**
 * Maps any failure of a cloud command to the public error code of `response/set`
 * (docs/mqtt-api.md): a cloud error by its `action` (src/kasa/errors.ts), the bridge's own by kind.
 */
export function commandErrorCode(err: unknown): CommandErrorCode {
  if (err instanceof KasaError) return commandFailureCode(err);
  if (err instanceof SessionUnavailableError) return 'auth_required';
  if (err instanceof DOMException && (err.name === 'TimeoutError' || err.name === 'AbortError')) return 'timeout';
  return 'cloud_error';
}

/** A user-facing message for a command failure: the error's own text, which never holds a secret. */
export function commandErrorMessage(err: unknown): string {
  if (err instanceof SchedulerStoppedError) return 'the bridge is shutting down; the command was not sent';
  return err instanceof Error ? err.message : String(err);
}

export function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
