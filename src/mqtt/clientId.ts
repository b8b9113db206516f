import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durableWrite.js';
import { SessionStoreError } from '../kasa/sessionStore.js';

const FILE = 'mqtt-client-id';
const PATTERN = /^kasa2mqtt_[0-9a-f]{8}$/;

/** `kasa2mqtt_<8 hex>`, made once and kept in DATA_DIR so the broker sees the same client across restarts. */
export function persistentClientId(dataDir: string): string {
  const path = join(dataDir, FILE);
  try {
    const stored = readFileSync(path, 'utf8').trim();
    if (PATTERN.test(stored)) return stored;
  } catch {
    // not made yet (or unreadable): make a new one below
  }
  const id = `kasa2mqtt_${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileDurably(path, `${id}\n`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new SessionStoreError(`cannot write ${path} (${code}); make DATA_DIR writable by this user`, path, { cause: err });
  }
  return id;
}
