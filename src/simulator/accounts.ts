import { randomInt, randomUUID } from 'node:crypto';
import type { SimAccountSpec } from './types.js';

export interface Account {
  readonly username: string;
  password: string;
  mfa: boolean;
  readonly mfaCode: string | undefined;
  readonly mfaTypes: number[];
  readonly accountId: string;
  readonly regTime: string;
  readonly trustedTerminals: Set<string>;
  /** Terminals a Tapo-identity MFA round trusted (what the `tapoMfa` fault asks for). */
  readonly tapoTrustedTerminals: Set<string>;
  passwordFailures: number;
  lockedUntil: number;
  lastMfaCode: string | undefined;
}

/** One login attempt waiting for its second factor; the code is bound to its user and terminal. */
export interface MfaProcess {
  readonly id: string;
  readonly username: string;
  readonly terminalUUID: string;
  expiresAt: number;
  failures: number;
  code?: string;
  codeExpiresAt?: number;
}

export type PasswordOutcome =
  | { kind: 'ok' }
  | { kind: 'locked'; lockedMinutes: number }
  | { kind: 'wrong'; failedAttempts: number; remainAttempts: number; lockedMinutes?: number };

export type CodeOutcome = { kind: 'ok' } | { kind: 'wrong'; remainAttempts: number };

export interface AccountPolicy {
  maxPasswordFailures: number;
  maxMfaFailures: number;
  mfaCodeTtlMs: number;
  lockDurationMs: number;
  now: () => number;
}

function key(username: string): string {
  return username.toLowerCase();
}

export class AccountStore {
  private readonly accounts = new Map<string, Account>();
  private readonly processes = new Map<string, MfaProcess>();

  constructor(private readonly policy: AccountPolicy) {}

  add(spec: SimAccountSpec): Account {
    if (this.accounts.has(key(spec.username))) throw new Error(`account ${spec.username} already exists`);
    const account: Account = {
      username: spec.username,
      password: spec.password,
      mfa: spec.mfa ?? false,
      mfaCode: spec.mfaCode,
      mfaTypes: spec.mfaTypes ?? [1, 2],
      accountId: String(randomInt(1_000_000, 99_999_999)),
      regTime: '2019-03-14 09:26:53',
      trustedTerminals: new Set(),
      tapoTrustedTerminals: new Set(),
      passwordFailures: 0,
      lockedUntil: 0,
      lastMfaCode: undefined,
    };
    this.accounts.set(key(spec.username), account);
    return account;
  }

  find(username: string): Account | undefined {
    return this.accounts.get(key(username));
  }

  /** For the control API: unknown names are a test bug, not a protocol outcome. */
  get(username: string): Account {
    const account = this.find(username);
    if (!account) throw new Error(`no simulated account ${username}`);
    return account;
  }

  checkPassword(account: Account, password: string): PasswordOutcome {
    const now = this.policy.now();
    const lockMinutes = Math.ceil(this.policy.lockDurationMs / 60_000);
    if (account.lockedUntil > now) return { kind: 'locked', lockedMinutes: Math.ceil((account.lockedUntil - now) / 60_000) };
    if (account.lockedUntil !== 0) this.unlock(account.username);
    if (password === account.password) {
      account.passwordFailures = 0;
      return { kind: 'ok' };
    }
    account.passwordFailures += 1;
    const remainAttempts = Math.max(0, this.policy.maxPasswordFailures - account.passwordFailures);
    if (remainAttempts === 0) {
      account.lockedUntil = now + this.policy.lockDurationMs;
      return { kind: 'wrong', failedAttempts: account.passwordFailures, remainAttempts, lockedMinutes: lockMinutes };
    }
    return { kind: 'wrong', failedAttempts: account.passwordFailures, remainAttempts };
  }

  needsMfa(account: Account, terminalUUID: string): boolean {
    return account.mfa && !account.trustedTerminals.has(terminalUUID);
  }

  openMfaProcess(account: Account, terminalUUID: string): MfaProcess {
    const process: MfaProcess = {
      id: randomUUID(),
      username: account.username,
      terminalUUID,
      expiresAt: this.policy.now() + this.policy.mfaCodeTtlMs,
      failures: 0,
    };
    this.processes.set(process.id, process);
    return process;
  }

  /** A live process by id, or else the newest live one for this user and terminal. */
  findProcess(by: { id?: string; username?: string; terminalUUID?: string }): MfaProcess | undefined {
    const now = this.policy.now();
    for (const [id, p] of this.processes) if (p.expiresAt <= now) this.processes.delete(id);
    if (by.id !== undefined) return this.processes.get(by.id);
    const candidates = [...this.processes.values()].filter(
      (p) => by.username !== undefined && key(p.username) === key(by.username) && p.terminalUUID === by.terminalUUID,
    );
    return candidates.at(-1);
  }

  /** "Sends" a code (e-mail or push): the account's fixed code, or six random digits. */
  dispatchCode(process: MfaProcess): string {
    const account = this.get(process.username);
    const code = account.mfaCode ?? String(randomInt(0, 1_000_000)).padStart(6, '0');
    const now = this.policy.now();
    process.code = code;
    process.codeExpiresAt = now + this.policy.mfaCodeTtlMs;
    process.expiresAt = Math.max(process.expiresAt, process.codeExpiresAt);
    account.lastMfaCode = code;
    return code;
  }

  /** Only a code dispatched for this process and still valid passes; failures end the process. */
  checkCode(process: MfaProcess, code: string): CodeOutcome {
    const valid =
      process.code !== undefined && process.codeExpiresAt !== undefined && process.codeExpiresAt > this.policy.now();
    if (valid && code === process.code) {
      this.processes.delete(process.id);
      return { kind: 'ok' };
    }
    process.failures += 1;
    const remainAttempts = Math.max(0, this.policy.maxMfaFailures - process.failures);
    if (remainAttempts === 0) this.processes.delete(process.id);
    return { kind: 'wrong', remainAttempts };
  }

  trust(username: string, terminalUUID: string, tapo = false): void {
    this.get(username).trustedTerminals.add(terminalUUID);
    if (tapo) this.get(username).tapoTrustedTerminals.add(terminalUUID);
  }

  untrustTerminals(username: string): void {
    this.get(username).trustedTerminals.clear();
    this.get(username).tapoTrustedTerminals.clear();
  }

  unlock(username: string): void {
    const account = this.get(username);
    account.lockedUntil = 0;
    account.passwordFailures = 0;
  }

  setMfa(username: string, enabled: boolean): void {
    this.get(username).mfa = enabled;
  }
}
