/**
 * DATA_DIR files on a real full disk (a small tmpfs): a write that does not fit fails, the good
 * file stays, no temp file is left, and the failure is reported until a later save succeeds.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TopicKeyStore } from '../src/devices/topicKeys.js';
import { SessionStore } from '../src/kasa/sessionStore.js';
import { createLogger } from '../src/logger.js';
import { StorageStatus } from '../src/storageStatus.js';
import { LogCapture } from './helpers/bridgeHarness.js';
import { mountSmallDisk } from './helpers/smallDisk.js';

const ids = Array.from({ length: 300 }, (_, i) => `8006${String(i).padStart(36, '0')}`);

describe('durable writes on a full disk', () => {
  it('a topic-key save that does not fit keeps the old file whole (no truncated file renamed over it) and leaves no temp file', (ctx) => {
    const disk = mountSmallDisk(ctx);
    const storage = new StorageStatus();
    const store = new TopicKeyStore({ dataDir: disk.dir, storage });
    store.batch(() => ids.forEach((id, i) => store.keyFor(id, `Lamp ${i}`)));
    const good = readFileSync(join(disk.dir, 'topic-keys.json'), 'utf8');
    expect(good.length).toBeGreaterThan(3 * 4096);

    // Room for part of the file only: the kernel writes what fits and says how much.
    disk.fill(4096);
    expect(store.rename('lamp_0', 'porch_lamp')).toMatchObject({ ok: { from: 'lamp_0', to: 'porch_lamp' } });
    store.flush(); // a rename's save is coalesced; write it now
    expect(readFileSync(join(disk.dir, 'topic-keys.json'), 'utf8')).toBe(good);
    expect(readdirSync(disk.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(storage.error).toMatch(/^topic-keys\.json: not saved \(ENOSPC\)$/);
    // The rename holds in memory meanwhile; the next start reads the last good file.
    expect(store.keyOf(ids[0]!)).toBe('porch_lamp');
    expect(new TopicKeyStore({ dataDir: disk.dir }).keyOf(ids[0]!)).toBe('lamp_0');

    disk.free();
    store.rename('porch_lamp', 'front_porch');
    store.flush();
    expect(storage.error).toBeUndefined();
    expect(new TopicKeyStore({ dataDir: disk.dir }).keyOf(ids[0]!)).toBe('front_porch');
  });

  it('a session save that fails keeps the new tokens in memory, reports storage_error without the token, and clears it once a save succeeds', (ctx) => {
    const disk = mountSmallDisk(ctx);
    const storage = new StorageStatus();
    const logs = new LogCapture();
    const store = new SessionStore({ dataDir: disk.dir, logger: createLogger({ level: 'debug', destination: logs }), storage });
    store.load('me@example.com');
    store.save({ token: 'token-one', refreshToken: 'refresh-one' });
    const saved = readFileSync(store.path, 'utf8');

    disk.fill(0);
    expect(() => store.save({ token: 'token-two-secret', refreshToken: 'refresh-two-secret' })).not.toThrow();
    expect(store.get()).toMatchObject({ token: 'token-two-secret', refreshToken: 'refresh-two-secret' });
    expect(readFileSync(store.path, 'utf8')).toBe(saved);
    expect(readdirSync(disk.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    expect(storage.error).toBe('session.json: not saved (ENOSPC)');
    expect(logs.text).toContain('cannot save the session');
    expect(logs.text).not.toMatch(/two-secret/);

    disk.free();
    store.save({ token: 'token-three' });
    expect(storage.error).toBeUndefined();
    expect(JSON.parse(readFileSync(store.path, 'utf8'))).toMatchObject({ token: 'token-three', refreshToken: 'refresh-two-secret' });
  });
});
