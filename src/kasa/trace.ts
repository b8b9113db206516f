/**
 * The redacted protocol trace (`kasa2mqtt login --trace`, KASA_TRACE=true): one JSON line per
 * cloud exchange, meant to be pasted into a bug report. Secrets are removed twice: by key
 * (passwords, tokens, codes, location) and then by value, so a secret the cloud echoes under an
 * unexpected key is still replaced. Identities (the terminal UUID, which with the password skips
 * two-step verification, the account id, e-mail addresses) become placeholders such as
 * `<terminal-1>` that stay the same for the whole process, so a report still shows which
 * requests share one.
 */

export interface TraceOptions {
  /** Receives one line (no trailing newline) per exchange. */
  write(line: string): void;
  /** The secret values known right now (password, tokens, MFA code, user name). */
  secrets(): readonly string[];
}

export interface TraceExchange {
  /** The app identity that sent it (`kasa`, `tapo`). */
  app?: string | undefined;
  op: string;
  method: string;
  host: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  durationMs: number;
  outcome: string;
  status?: number | undefined;
  /** The answer body as received (JSON text, or anything else). */
  answer?: string | undefined;
  errorCode?: number | undefined;
  error?: string | undefined;
}

const REDACTED = '<redacted>';
const SECRET_KEYS = new Set(['cloudpassword', 'password', 'token', 'refreshtoken', 'code', 'mfacode', 'verifycode', 'nickname']);

type IdentityKind = 'terminal' | 'account' | 'email';
/** Keys (lower case) whose value is an identity, in request bodies, answers and the query. */
const IDENTITY_KEYS: ReadonlyMap<string, IdentityKind> = new Map([
  ['terminaluuid', 'terminal'],
  ['termid', 'terminal'],
  ['accountid', 'account'],
  ['cloudusername', 'email'],
  ['username', 'email'],
  ['email', 'email'],
]);
const LOCATION_KEYS = new Set(['latitude', 'longitude', 'latitude_i', 'longitude_i']);
/** Fields that carry JSON as a string: traced as the parsed, redacted object. */
const NESTED_JSON_KEYS = new Set(['requestData', 'responseData']);

/** `j***@e***.com`: enough to tell accounts apart in a report, not enough to name one. */
export function maskEmail(value: string): string {
  const at = value.indexOf('@');
  if (at < 1) return REDACTED;
  const domain = value.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${value[0]}***@${domain[0] ?? ''}***${tld}`;
}

/**
 * Identity value → placeholder, numbered per kind in order of first sight. One per process: the
 * trace of a process is one file (stderr), and its placeholders must agree from line to line.
 */
class IdentityPlaceholders {
  readonly #byValue = new Map<string, string>();
  readonly #counts = new Map<IdentityKind, number>();

  placeholder(kind: IdentityKind, value: string): string {
    const key = kind === 'email' ? value.toLowerCase() : value;
    let placeholder = this.#byValue.get(key);
    if (placeholder === undefined) {
      const n = (this.#counts.get(kind) ?? 0) + 1;
      this.#counts.set(kind, n);
      placeholder = `<${kind}-${n}>`;
      this.#byValue.set(key, placeholder);
    }
    return placeholder;
  }

  /** Replaces every identity seen so far wherever it stands whole (an error text, an unexpected key). */
  scrub(text: string): string {
    let out = text;
    for (const [value, placeholder] of [...this.#byValue].sort(([a], [b]) => b.length - a.length)) {
      if (value.length < 4) continue;
      out = out.replace(new RegExp(`(?<![\\w.-])${escapeRegExp(value)}(?![\\w-])`, 'gi'), placeholder);
    }
    return out;
  }
}

const identities = new IdentityPlaceholders();

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function redactValue(key: string, value: unknown): unknown {
  const lower = key.toLowerCase();
  if (value === null || value === undefined) return value;
  if (SECRET_KEYS.has(lower) || LOCATION_KEYS.has(lower)) return REDACTED;
  const identity = IDENTITY_KEYS.get(lower);
  if (identity !== undefined) {
    return typeof value === 'string' || typeof value === 'number' ? identities.placeholder(identity, String(value)) : REDACTED;
  }
  if (NESTED_JSON_KEYS.has(key) && typeof value === 'string') {
    try {
      return redactTree(JSON.parse(value));
    } catch {
      return REDACTED;
    }
  }
  return redactTree(value);
}

export function redactTree(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => redactTree(v));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactValue(k, v)]));
}

function redactQuery(query: URLSearchParams): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of query) out[k] = k === 'token' ? REDACTED : (redactValue(k, v) as string);
  return out;
}

function parseAnswer(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return redactTree(JSON.parse(text));
  } catch {
    return { unparsed_bytes: text.length };
  }
}

/** The trace line for one exchange, with every known secret value replaced as a last resort. */
export function traceLine(exchange: TraceExchange, secrets: readonly string[]): string {
  const line = JSON.stringify({
    trace: 'kasa-cloud',
    at: new Date().toISOString(),
    ...(exchange.app !== undefined ? { app: exchange.app } : {}),
    op: exchange.op,
    method: exchange.method,
    host: exchange.host,
    path: exchange.path,
    query: redactQuery(exchange.query),
    request: redactTree(exchange.body),
    outcome: exchange.outcome,
    duration_ms: exchange.durationMs,
    ...(exchange.status !== undefined ? { http_status: exchange.status } : {}),
    ...(exchange.errorCode !== undefined ? { error_code: exchange.errorCode } : {}),
    ...(exchange.error !== undefined ? { error: exchange.error } : {}),
    ...(exchange.answer !== undefined ? { answer: parseAnswer(exchange.answer) } : {}),
  });
  return scrub(identities.scrub(line), secrets);
}

function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  // Longest first, so a secret that contains another is replaced whole.
  for (const secret of [...secrets].filter((s) => s.length >= 4).sort((a, b) => b.length - a.length)) {
    for (const form of new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)])) {
      out = out.split(form).join(REDACTED);
    }
  }
  return out;
}
