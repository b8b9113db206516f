/**
 * The redacted protocol trace (`kasa2mqtt login --trace`, KASA_TRACE=true): one JSON line per
 * cloud exchange, meant to be pasted into a bug report. Secrets are removed twice: by key
 * (passwords, tokens, codes, e-mail addresses, location) and then by value, so a secret the
 * cloud echoes under an unexpected key is still replaced.
 */

export interface TraceOptions {
  /** Receives one line (no trailing newline) per exchange. */
  write(line: string): void;
  /** The secret values known right now (password, tokens, MFA code, user name). */
  secrets(): readonly string[];
}

export interface TraceExchange {
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
const SECRET_KEYS = new Set(['cloudpassword', 'password', 'token', 'refreshtoken', 'code', 'mfacode', 'verifycode']);
const EMAIL_KEYS = new Set(['cloudusername', 'username', 'email', 'nickname']);
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

function redactValue(key: string, value: unknown): unknown {
  const lower = key.toLowerCase();
  if (value === null || value === undefined) return value;
  if (SECRET_KEYS.has(lower) || LOCATION_KEYS.has(lower)) return REDACTED;
  if (EMAIL_KEYS.has(lower)) return typeof value === 'string' ? maskEmail(value) : REDACTED;
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
  for (const [k, v] of query) out[k] = k === 'token' ? REDACTED : v;
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
  return scrub(line, secrets);
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
