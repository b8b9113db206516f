import { randomBytes } from 'node:crypto';
import type { AuthError, AuthState, BridgeAuthPayload } from '../api/types.js';
import {
  KasaError,
  KasaMfaCodeError,
  KasaMfaRequiredError,
  KasaUserActionError,
  type KasaUserActionReason,
} from '../kasa/errors.js';
import type { LoginResult } from '../kasa/cloudClient.js';
import { isRecord } from '../isRecord.js';
import { RequestError } from './bridgeRequests.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';
import { describeError } from './errors.js';
import { LoginRequestRules, type CredentialsRefusal } from './loginRequests.js';
import { rateLimited } from './requestLimits.js';
import type { MqttMessage } from '../mqtt/connection.js';

const MFA_ATTEMPTS = 3;

interface MfaRound {
  challenge: string;
  mfaType: 'email' | 'push';
  expiresAt: number;
  attemptsLeft: number;
  timer: NodeJS.Timeout;
  unsubscribe: () => Promise<void>;
  /** A code is being checked with the cloud; further codes wait for the answer. */
  verifying: boolean;
}

type LoginRequestOutcome = 'started' | 'already_authenticated';

const USER_ACTION_ERRORS: Readonly<Record<KasaUserActionReason, AuthError>> = {
  credentials_invalid: 'credentials_invalid',
  account_not_found: 'credentials_invalid',
  app_rejected: 'credentials_invalid',
  account_locked: 'account_locked',
  session_revoked: 'session_revoked',
};

/** What a failed login or MFA check shows as `last_error`, by the error's action. */
function authErrorOf(err: unknown): AuthError {
  if (err instanceof KasaUserActionError) return USER_ACTION_ERRORS[err.reason];
  if (!(err instanceof KasaError)) return 'cloud_unreachable';
  if (err.action === 'report') return 'protocol_error';
  if (err.action === 'back_off' || err.action === 'stop') return 'rate_limited';
  return 'cloud_unreachable';
}

/**
 * The cloud session as a state machine published on `<base>/bridge/auth` (docs/mqtt-api.md, "Login and MFA"),
 * including the one-shot MFA round over `<base>/bridge/mfa`.
 */
export class AuthManager extends PartBase {
  readonly name = 'auth';
  #round: MfaRound | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #retryDelayMs: number;
  #stopped = false;
  readonly #log;
  readonly #requestRules: LoginRequestRules;

  constructor(ctx: BridgeContext) {
    super(ctx);
    this.#log = ctx.logger.child({ module: 'auth' });
    this.#retryDelayMs = ctx.timing.loginRetryMs[0];
    const { DATA_DIR, KASA_USERNAME, KASA_PASSWORD } = ctx.config;
    this.#requestRules = new LoginRequestRules({ dataDir: DATA_DIR, username: KASA_USERNAME, password: KASA_PASSWORD, logger: ctx.logger });
  }

  get #state(): AuthState {
    return this.ctx.auth.state;
  }

  get #payload(): BridgeAuthPayload {
    return this.ctx.auth.payload;
  }

  /** Reuses a stored session when there is one; logs in otherwise. */
  override async start(): Promise<void> {
    this.listen('sessionLost', (error, mfa) => this.#onSessionLost(error, mfa));
    this.handle('auth/login', async () => {
      const outcome = this.requestLogin();
      return { state: outcome === 'already_authenticated' ? 'authenticated' : 'logging_in' };
    });
    if (this.ctx.client.hasSession()) {
      this.#log.info('reusing the stored cloud session');
      this.#setState({ state: 'authenticated' });
      return;
    }
    const refusal = this.#requestRules.activeRefusal();
    if (refusal) {
      // A restart with the same credentials must not be one more wrong login towards a lock.
      this.#log.error(
        { reason: refusal.reason, until: new Date(refusal.until).toISOString() },
        'not logging in: the cloud refused these credentials shortly before; change them and restart, or wait and publish bridge/request/auth/login',
      );
      this.#fail(refusal.reason);
      return;
    }
    await this.login();
  }

  override async stop(): Promise<void> {
    this.#stopped = true;
    await super.stop();
    await this.#closeRound();
  }

  /**
   * A login a person asked for (`bridge/request/auth/login`, the HA "Log in" button, the web page):
   * a new login round when the rules in loginRequests.ts allow one. Throws the RequestError to answer.
   */
  requestLogin(): LoginRequestOutcome {
    if (this.#state === 'authenticated') return 'already_authenticated';
    if (this.#state === 'logging_in' || this.#state === 'verifying') {
      throw new RequestError('busy', `a login is already under way (${this.#state})`);
    }
    const round = this.#round;
    const verdict = this.#requestRules.check(round?.expiresAt);
    if (!verdict.allowed) {
      this.#log.debug({ retryAfter: new Date(verdict.retryAt).toISOString() }, `refused a requested login: ${verdict.message}`);
      throw rateLimited(verdict.message, verdict.retryAt);
    }
    this.#requestRules.recordRequested();
    void this.login();
    return 'started';
  }

  /**
   * The cloud client reports the session changed underneath a request: a relogin needed MFA
   * (the code is already dispatched) or the session is lost for good.
   */
  #onSessionLost(error: KasaError | undefined, mfa: { mfaType: 'email' | 'push' } | undefined): void {
    if (this.#stopped) return;
    if (mfa) {
      void this.#openRound(mfa.mfaType);
      return;
    }
    // The client's own relogin failed: a person must act, or (network, throttling) retry with backoff.
    if (this.#state === 'authenticated') this.#loginFailed(error ?? new Error('the cloud session was lost'));
  }

  /** `automatic`: a retry nobody asked for; the client caps those at one per 10 minutes. */
  async login(options: { automatic?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.cancel(this.#retryTimer);
    await this.#closeRound();
    this.#setState({ state: 'logging_in' });
    let result: LoginResult;
    try {
      // Region lookup + login, and the code dispatch when MFA is on: up to three requests.
      result = await this.ctx.scheduler.run('command', (signal) => this.ctx.client.login(signal, options), { label: 'login', cost: 3 });
    } catch (err) {
      this.#loginFailed(err);
      return;
    }
    this.#retryDelayMs = this.ctx.timing.loginRetryMs[0];
    // The password was accepted (a code may still be due): no reason left to hold requests back.
    this.#requestRules.clearRefusal();
    if (result.status === 'authenticated') {
      this.#log.info('logged in to the cloud');
      this.#setState({ state: 'authenticated' });
    } else {
      await this.#openRound(result.mfaType);
    }
  }

  #loginFailed(err: unknown): void {
    if (err instanceof KasaMfaRequiredError) {
      void this.#openRound(err.mfaType ?? 'email');
      return;
    }
    const lastError = authErrorOf(err);
    if (err instanceof KasaUserActionError) {
      // Never retried by itself: repeated wrong passwords lock the account.
      this.#log.error({ reason: err.reason }, `cloud login refused: ${err.message}`);
      if (isCredentialsRefusal(lastError)) this.#requestRules.recordRefusal(lastError);
      this.#fail(lastError);
      return;
    }
    if (lastError === 'protocol_error') {
      // Retrying cannot help an answer the client does not understand; the message says what was missing.
      this.#log.error({ err: describeError(err) }, 'the cloud answered something this client does not understand; not retrying (run with KASA_TRACE=true and report it)');
      this.#fail(lastError);
      return;
    }
    const backoff = this.#retryDelayMs;
    this.#retryDelayMs = Math.min(this.#retryDelayMs * 2, this.ctx.timing.loginRetryMs[1]);
    // A login the cloud answered (throttled) counts against the automatic-login cap; wait for it.
    const delay = Math.max(backoff, this.ctx.client.nextAutomaticLoginAt - Date.now());
    this.#log.warn({ err: describeError(err), retryInMs: delay }, 'cloud login failed; will retry');
    this.#setState({ state: 'error', last_error: lastError });
    if (!this.#stopped) {
      this.#retryTimer = this.later(delay, () => void this.login({ automatic: true }));
    }
  }

  #fail(lastError: AuthError): void {
    this.#setState({ state: 'error', last_error: lastError });
  }

  async #openRound(mfaType: 'email' | 'push'): Promise<void> {
    await this.#closeRound();
    if (this.#stopped) return;
    const challenge = randomBytes(3).toString('hex');
    const timeoutMs = this.ctx.config.KASA_MFA_TIMEOUT * 1000;
    const expiresAt = Date.now() + timeoutMs;
    const timer = setTimeout(() => void this.#expireRound(challenge), timeoutMs);
    timer.unref();
    const round: MfaRound = {
      challenge,
      mfaType,
      expiresAt,
      attemptsLeft: MFA_ATTEMPTS,
      timer,
      unsubscribe: async () => {},
      verifying: false,
    };
    this.#round = round;
    // The subscription is in place before mfa_required is published, so no code is missed.
    round.unsubscribe = await this.ctx.mqtt.subscribe(this.ctx.topics.bridgeMfa, (msg) => this.#onCode(round, msg), {
      qos: 1,
      retainAsPublished: true,
    });
    if (this.#round !== round) {
      await round.unsubscribe();
      return;
    }
    this.#log.info({ mfaType, expiresAt: new Date(expiresAt).toISOString() }, 'two-step verification: waiting for the code on MQTT');
    this.#publishRound(round);
  }

  #publishRound(round: MfaRound, lastError?: AuthError): void {
    this.#setState({
      state: 'mfa_required',
      mfa_type: round.mfaType,
      challenge: round.challenge,
      expires_at: new Date(round.expiresAt).toISOString(),
      attempts_left: round.attemptsLeft,
      ...(lastError ? { last_error: lastError } : {}),
    });
  }

  async #onCode(round: MfaRound, msg: MqttMessage): Promise<void> {
    if (this.#round !== round || msg.payload.length === 0) return;
    if (msg.retain) {
      this.#log.warn('refused a retained MFA code and cleared it from the broker; publish the code without -r');
      this.#clearTopic();
      this.#publishRound(round, 'retained_rejected');
      return;
    }
    const submission = parseCodeSubmission(msg.payload);
    if (!submission) {
      this.#log.warn('ignored an MFA message that is not a code (plain digits or {"code":"…"})');
      return;
    }
    if (submission.challenge !== undefined && submission.challenge !== round.challenge) {
      this.#log.warn('ignored an MFA code for another round (challenge does not match)');
      return;
    }
    if (round.verifying) {
      this.#log.warn('ignored an MFA code: the previous one is still being checked');
      return;
    }
    // Under MQTT 3.1.1 a live `-r` publish cannot be told apart: clear the topic after any code.
    if (!this.ctx.mqtt.mqtt5) this.#clearTopic();
    round.verifying = true;
    this.#setState({ ...this.#payload, state: 'verifying' });
    try {
      await this.ctx.scheduler.run('command', (signal) => this.ctx.client.completeMfa(submission.code, signal), {
        label: 'mfa',
      });
    } catch (err) {
      round.verifying = false;
      if (this.#round !== round) return;
      if (err instanceof KasaMfaCodeError) {
        round.attemptsLeft -= 1;
        this.#log.warn({ attemptsLeft: round.attemptsLeft }, 'the cloud refused the MFA code');
        if (round.attemptsLeft <= 0) {
          await this.#closeRound();
          this.#fail('code_invalid');
        } else {
          this.#publishRound(round, 'code_invalid');
        }
        return;
      }
      const lastError = authErrorOf(err);
      if (lastError === 'protocol_error') {
        this.#log.error({ err: describeError(err) }, 'the cloud answered the MFA check with something this client does not understand');
        await this.#closeRound();
        this.#fail(lastError);
        return;
      }
      this.#log.warn({ err: describeError(err) }, 'could not check the MFA code with the cloud');
      this.#publishRound(round, lastError);
      return;
    }
    await this.#closeRound();
    this.#log.info('two-step verification complete; this terminal is now trusted');
    this.#setState({ state: 'authenticated' });
  }

  async #expireRound(challenge: string): Promise<void> {
    if (this.#round?.challenge !== challenge) return;
    this.#log.warn('the MFA round expired without a valid code; publish to bridge/request/auth/login to start a new one');
    await this.#closeRound();
    this.#fail('code_expired');
  }

  async #closeRound(): Promise<void> {
    const round = this.#round;
    if (!round) return;
    this.#round = undefined;
    clearTimeout(round.timer);
    await round.unsubscribe();
  }

  #clearTopic(): void {
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeMfa, '', { retain: true });
  }

  #setState(payload: Omit<BridgeAuthPayload, 'since'>): void {
    const changed = payload.state !== this.#state;
    this.ctx.auth.set({ ...payload, since: changed ? new Date().toISOString() : this.#payload.since });
    void this.ctx.mqtt.publish(this.ctx.topics.bridgeAuth, this.#payload, { retain: true });
    if (changed) {
      this.ctx.events.emit('sessionUsable', payload.state === 'authenticated');
      this.ctx.publishEvent({
        type: 'auth_state_changed',
        state: payload.state,
        ...(payload.last_error ? { last_error: payload.last_error } : {}),
      });
    }
  }
}

function isCredentialsRefusal(error: AuthError): error is CredentialsRefusal {
  return error === 'credentials_invalid' || error === 'account_locked';
}

const CODE_PATTERN = /^[0-9A-Za-z]{4,12}$/;

/** A plain code, or `{"code":"123456","challenge":"…"}`; anything else is undefined. */
export function parseCodeSubmission(payload: Buffer): { code: string; challenge?: string } | undefined {
  if (payload.length > 1024) return undefined;
  const text = payload.toString('utf8').trim();
  if (CODE_PATTERN.test(text)) return { code: text };
  if (!text.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(parsed)) return undefined;
  const { code, challenge } = parsed;
  const codeText = typeof code === 'number' ? String(code) : code;
  if (typeof codeText !== 'string' || !CODE_PATTERN.test(codeText.trim())) return undefined;
  if (challenge !== undefined && typeof challenge !== 'string') return undefined;
  return challenge === undefined ? { code: codeText.trim() } : { code: codeText.trim(), challenge };
}
