import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAuthorization, signRequest } from '../../src/kasa/signing.js';

interface Vector {
  name: string;
  body: string;
  path: string;
  nonce: string;
  contentMd5: string;
  xAuthorization: string;
}

const vectors = JSON.parse(
  readFileSync(new URL('../fixtures/kasa-cloud/signing-vectors.json', import.meta.url), 'utf8'),
) as Vector[];

describe('request signing', () => {
  it('has all nine published vectors to check against', () => {
    expect(vectors).toHaveLength(9);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('reproduces vector "%s" byte for byte', (_name, v) => {
    const signed = signRequest(v.body, v.path, v.nonce);
    expect(signed.contentMd5).toBe(v.contentMd5);
    expect(signed.xAuthorization).toBe(v.xAuthorization);
  });

  it('parses the header it writes and rejects other shapes', () => {
    const v = vectors[0]!;
    const parsed = parseAuthorization(signRequest(v.body, v.path, v.nonce).xAuthorization);
    expect(parsed).toMatchObject({ timestamp: '9999999999', nonce: v.nonce });
    expect(parseAuthorization('Timestamp=1,Nonce=x')).toBeUndefined();
    expect(parseAuthorization(v.xAuthorization.replace(', ', ','))).toBeUndefined();
  });
});
