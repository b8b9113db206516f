/**
 * certs/tplink-ca-chain.pem is a trust anchor shipped in the package and the image: only CA
 * certificates belong there, and none may have expired (a leaf is never pinned; an expired one
 * is dead weight that looks like a pin).
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { BUNDLED_CA_PATH } from '../../src/kasa/transport.js';

const pems = readFileSync(BUNDLED_CA_PATH, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];

describe('certs/tplink-ca-chain.pem', () => {
  it('holds the TP-Link roots and intermediate, each a CA certificate that has not expired', () => {
    const certificates = pems.map((pem) => new X509Certificate(pem));
    expect(certificates.map((c) => c.subject.split('\n').find((part) => part.startsWith('CN='))).sort()).toEqual([
      'CN=TP-LINK CA P1',
      'CN=TP-Link Cloud Root CA',
      'CN=tp-link-CA',
    ]);
    for (const certificate of certificates) {
      expect(certificate.ca, certificate.subject).toBe(true);
      expect(new Date(certificate.validTo).getTime(), `${certificate.subject} valid to ${certificate.validTo}`).toBeGreaterThan(Date.now());
    }
  });
});
