import { createHash, createHmac, randomUUID } from 'node:crypto';

/** App identity constants from the Kasa Android APK (`sdkconfig.xml`); the same for every user. */
export const KASA_ACCESS_KEY = 'e37525375f8845999bcc56d5e6faa76d';
export const KASA_SECRET_KEY = '314bc6700b3140ca80bc655e527cb062';
export const TAPO_ACCESS_KEY = '4d11b6b9d5ea4d19a829adbb9714b057';
export const TAPO_SECRET_KEY = '6ed7d97f3e73467f8a5bab90b577ba4c';

/** The app signs a constant, not the clock; the server does not check freshness. */
export const SIGNING_TIMESTAMP = '9999999999';

export interface SignedHeaders {
  contentMd5: string;
  xAuthorization: string;
}

export function contentMd5(body: string | Uint8Array): string {
  return createHash('md5').update(body).digest('base64');
}

export function computeSignature(
  secretKey: string,
  md5: string,
  timestamp: string,
  nonce: string,
  path: string,
): string {
  const stringToSign = `${md5}\n${timestamp}\n${nonce}\n${path}`;
  return createHmac('sha1', secretKey).update(stringToSign, 'utf8').digest('hex');
}

/**
 * Signs a V2 request: the exact body bytes and the URL's encoded path (no query) are covered.
 * An empty body is signed as `{}`, as the app does.
 */
export function signRequest(
  body: string,
  path: string,
  nonce: string = randomUUID(),
  keys: { accessKey: string; secretKey: string } = { accessKey: KASA_ACCESS_KEY, secretKey: KASA_SECRET_KEY },
): SignedHeaders {
  const md5 = contentMd5(body === '' ? '{}' : body);
  const signature = computeSignature(keys.secretKey, md5, SIGNING_TIMESTAMP, nonce, path);
  return {
    contentMd5: md5,
    xAuthorization: `Timestamp=${SIGNING_TIMESTAMP}, Nonce=${nonce}, AccessKey=${keys.accessKey}, Signature=${signature}`,
  };
}

export interface ParsedAuthorization {
  timestamp: string;
  nonce: string;
  accessKey: string;
  signature: string;
}

const AUTH_PATTERN =
  /^Timestamp=(\d+), Nonce=([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}), AccessKey=([0-9a-f]{32}), Signature=([0-9a-f]{40})$/;

/** Parses `X-Authorization` exactly as the app writes it; anything else is `undefined`. */
export function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = AUTH_PATTERN.exec(header);
  if (!m) return undefined;
  return { timestamp: m[1]!, nonce: m[2]!, accessKey: m[3]!, signature: m[4]! };
}
