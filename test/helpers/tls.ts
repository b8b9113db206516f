/**
 * A throwaway private CA and a server certificate for 127.0.0.1 / localhost, made with the
 * `openssl` binary in a temp dir. Used to serve the simulator over HTTPS in tests.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestTls {
  caPem: string;
  keyPem: string;
  certPem: string;
  /** Where the files live (ca.pem, server.key, server.pem), until `cleanup()`. */
  dir: string;
  caFile: string;
  cleanup(): void;
}

export interface TestTlsOptions {
  /** Serve a certificate whose validity ended in 2020. */
  expired?: boolean;
  /** The server certificate's subjectAltName (default `IP:127.0.0.1,DNS:localhost`). */
  altNames?: string;
}

export function makeTestTls(options: TestTlsOptions = {}): TestTls {
  const dir = mkdtempSync(join(tmpdir(), 'kasa-tls-'));
  const file = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };

  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file('ca.key'));
  openssl(
    'req', '-x509', '-new', '-key', file('ca.key'), '-sha256', '-days', '2',
    '-subj', '/CN=kasa2mqtt test root CA', '-out', file('ca.pem'),
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  );
  openssl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', file('server.key'));
  openssl('req', '-new', '-key', file('server.key'), '-subj', '/CN=localhost', '-out', file('server.csr'));
  writeFileSync(
    file('server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${options.altNames ?? 'IP:127.0.0.1,DNS:localhost'}`,
      '',
    ].join('\n'),
  );
  if (options.expired) {
    // `openssl x509` cannot back-date (OpenSSL 3.0); `openssl ca` can, with a minimal CA database.
    writeFileSync(file('index.txt'), '');
    writeFileSync(file('serial'), '01\n');
    writeFileSync(
      file('ca.cnf'),
      ['[ca]', 'default_ca = test', '[test]', `dir = ${dir}`, 'database = $dir/index.txt', 'new_certs_dir = $dir',
        'serial = $dir/serial', 'default_md = sha256', 'policy = any', 'unique_subject = no', '[any]', 'commonName = supplied', ''].join('\n'),
    );
    openssl(
      'ca', '-batch', '-config', file('ca.cnf'), '-cert', file('ca.pem'), '-keyfile', file('ca.key'), '-in', file('server.csr'),
      '-startdate', '20200101000000Z', '-enddate', '20200102000000Z', '-extfile', file('server.ext'), '-notext', '-out', file('server.pem'),
    );
  } else {
    openssl(
      'x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
      '-CAcreateserial', '-days', '2', '-sha256', '-extfile', file('server.ext'), '-out', file('server.pem'),
    );
  }

  return {
    caPem: readFileSync(file('ca.pem'), 'utf8'),
    keyPem: readFileSync(file('server.key'), 'utf8'),
    certPem: readFileSync(file('server.pem'), 'utf8'),
    dir,
    caFile: file('ca.pem'),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
