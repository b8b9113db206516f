import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildNodes } from '../../src/devices/nodes.js';
import { TOPIC_KEYS_FILE, TopicKeyStore, slugKey } from '../../src/devices/topicKeys.js';
import { entryByModel, sysinfoFixture } from './fixtures.js';

const LAMP = '8006A0FBBA4A2D2F1A6B27E4A6A2A6C4D35E1A2B';
const OTHER = '80061234567890ABCDEF1234567890ABCDEF9F3C';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kasa-keys-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('slugKey', () => {
  it('lower-cases, turns runs of other characters into _ and trims them', () => {
    expect(slugKey('Living Room Lamp', LAMP)).toBe('living_room_lamp');
    expect(slugKey('  Küche -- Decke!! ', LAMP)).toBe('k_che_decke');
    expect(slugKey('TP-LINK_Power Strip_9704', LAMP)).toBe('tp_link_power_strip_9704');
    expect(slugKey('a/b+c#d', LAMP)).toBe('a_b_c_d');
  });

  it('falls back to the id when nothing is left', () => {
    expect(slugKey('', LAMP)).toBe(LAMP.toLowerCase());
    expect(slugKey('💡 ✨', LAMP)).toBe(LAMP.toLowerCase());
  });
});

describe('TopicKeyStore', () => {
  it('a batch (a first device list) writes the file once, at its end, with every new key', () => {
    const store = new TopicKeyStore({ dataDir: dir });
    const file = join(dir, TOPIC_KEYS_FILE);
    const ids = Array.from({ length: 200 }, (_, i) => `8006${i.toString(16).toUpperCase().padStart(36, '0')}`);
    const seenDuring: boolean[] = [];
    store.batch(() => {
      for (const [i, id] of ids.entries()) {
        store.keyFor(id, `Plug ${i}`);
        seenDuring.push(readdirSync(dir).includes(TOPIC_KEYS_FILE));
      }
    });
    expect(seenDuring.every((written) => !written)).toBe(true);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { keys: Record<string, string> };
    expect(Object.keys(saved.keys)).toHaveLength(200);
    expect(new TopicKeyStore({ dataDir: dir }).keyOf(ids[199]!)).toBe('plug_199');
  });

  it('a batch that throws still saves the keys it made', () => {
    const store = new TopicKeyStore({ dataDir: dir });
    expect(() =>
      store.batch(() => {
        store.keyFor(LAMP, 'Lamp');
        throw new Error('device list broke half way');
      }),
    ).toThrow('half way');
    expect(new TopicKeyStore({ dataDir: dir }).keyOf(LAMP)).toBe('lamp');
  });

  it('gives a clashing alias the last four hex digits of the id', () => {
    const store = new TopicKeyStore({ dataDir: dir });
    expect(store.keyFor(LAMP, 'Lamp')).toBe('lamp');
    expect(store.keyFor(OTHER, 'Lamp')).toBe('lamp_9f3c');
  });

  it('never hands out bridge', () => {
    const store = TopicKeyStore.inMemory();
    expect(store.keyFor(LAMP, 'Bridge')).toBe('bridge_1a2b');
  });

  it('keeps keys across alias changes and restarts', () => {
    const first = new TopicKeyStore({ dataDir: dir });
    expect(first.keyFor(LAMP, 'Lamp')).toBe('lamp');
    const second = new TopicKeyStore({ dataDir: dir });
    expect(second.keyFor(LAMP, 'Reading Light')).toBe('lamp');
    expect(second.keyFor(OTHER, 'Lamp')).toBe('lamp_9f3c');
  });

  it('stores the file 0600 in a 0700 directory, written atomically', () => {
    const dataDir = join(dir, 'data');
    const store = new TopicKeyStore({ dataDir });
    store.keyFor(LAMP, 'Lamp');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, TOPIC_KEYS_FILE)).mode & 0o777).toBe(0o600);
    expect(readdirSync(dataDir)).toEqual([TOPIC_KEYS_FILE]);
    expect(JSON.parse(readFileSync(join(dataDir, TOPIC_KEYS_FILE), 'utf8'))).toEqual({ version: 1, keys: { [LAMP]: 'lamp' } });
  });

  it('resolves keys, device ids and outlet child ids, ids case-insensitively', () => {
    const store = TopicKeyStore.inMemory();
    const nodes = buildNodes(entryByModel('HS300'), sysinfoFixture('hs300_us_get_sys_info_response.json'), (id, name) =>
      store.keyFor(id, name),
    );
    const outlet = nodes[2]!;
    expect(store.resolve(outlet.key)).toBe(outlet.id);
    expect(store.resolve(outlet.id)).toBe(outlet.id);
    expect(store.resolve(outlet.id.toLowerCase())).toBe(outlet.id);
    expect(store.resolve(nodes[0]!.id.toLowerCase())).toBe(nodes[0]!.id);
    expect(store.resolve('nothing_here')).toBeUndefined();
  });

  it('renames with validation and answers the old key', () => {
    const store = new TopicKeyStore({ dataDir: dir });
    store.keyFor(LAMP, 'Lamp');
    store.keyFor(OTHER, 'Fan');
    expect(store.rename('lamp', 'reading_lamp')).toEqual({ ok: { id: LAMP, from: 'lamp', to: 'reading_lamp' } });
    expect(store.resolve('reading_lamp')).toBe(LAMP);
    expect(store.resolve('lamp')).toBeUndefined();
    // A rename's save waits for the rest of a burst; flush() writes it now.
    store.flush();
    expect(new TopicKeyStore({ dataDir: dir }).keyOf(LAMP)).toBe('reading_lamp');

    const code = (r: ReturnType<TopicKeyStore['rename']>) => ('error' in r ? r.error.code : 'ok');
    expect(code(store.rename(LAMP, 'fan'))).toBe('key_taken');
    expect(code(store.rename(LAMP, 'bridge'))).toBe('invalid_key');
    for (const bad of ['', 'a/b', 'a+b', 'a#', 'Upper', 'with space', 'x'.repeat(65)]) {
      expect(code(store.rename(LAMP, bad)), bad).toBe('invalid_key');
    }
    expect(code(store.rename(LAMP, OTHER.toLowerCase()))).toBe('key_taken');
    expect(code(store.rename('missing', 'x'))).toBe('unknown_device');
    expect(code(store.rename(LAMP, 'reading_lamp'))).toBe('ok');
  });

  it('reports a corrupt file, keeps it aside and rebuilds', () => {
    writeFileSync(join(dir, TOPIC_KEYS_FILE), '{"version":1,"keys":');
    const warnings: string[] = [];
    const store = new TopicKeyStore({ dataDir: dir, logger: { warn: (m: string) => warnings.push(m) } as never });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('corrupt');
    expect(store.keyFor(LAMP, 'Lamp')).toBe('lamp');
    expect(readdirSync(dir).some((f) => f.startsWith(`${TOPIC_KEYS_FILE}.corrupt-`))).toBe(true);
    expect(new TopicKeyStore({ dataDir: dir }).keyOf(LAMP)).toBe('lamp');
  });

  it('drops unusable entries of an otherwise valid file', () => {
    const keys = { [LAMP]: 'lamp', [OTHER]: 'lamp', A: 'bridge', B: 'a/b', C: 5, ['__proto__']: 'x' };
    writeFileSync(join(dir, TOPIC_KEYS_FILE), JSON.stringify({ version: 1, keys }));
    const warnings: string[] = [];
    const store = new TopicKeyStore({ dataDir: dir, onWarning: (m) => warnings.push(m) });
    expect(store.entries()).toEqual(new Map([[LAMP, 'lamp']]));
    expect(warnings[0]).toContain('ignored');
  });

  it('reports a failed save and keeps working in memory', () => {
    const warnings: string[] = [];
    const store = new TopicKeyStore({ dataDir: dir, onWarning: (m) => warnings.push(m) });
    rmSync(dir, { recursive: true, force: true });
    expect(store.keyFor(LAMP, 'Lamp')).toBe('lamp');
    expect(warnings[0]).toContain('cannot save');
  });
});
