import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SessionStore, SessionStoreError } from '../../src/kasa/sessionStore.js';
import { createLogger } from '../../src/logger.js';
import { StorageStatus } from '../../src/storageStatus.js';

let root: string;
let logLines: string[];

function makeStore(dataDir: string): SessionStore {
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logLines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return new SessionStore({ dataDir, logger: createLogger({ level: 'debug', destination }) });
}

const mode = (p: string): number => statSync(p).mode & 0o777;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kasa-store-'));
  logLines = [];
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('SessionStore', () => {
  it('creates DATA_DIR 0700 and a 0600 session file with a v4 terminal UUID', () => {
    const dir = join(root, 'data', 'nested');
    const store = makeStore(dir);
    const s = store.load('me@example.com');
    expect(s.terminalUUID).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(s.token).toBeUndefined();
    expect(mode(dir)).toBe(0o700);
    expect(mode(store.path)).toBe(0o600);
    expect(JSON.parse(readFileSync(store.path, 'utf8'))).toEqual({ terminalUUID: s.terminalUUID, username: 'me@example.com' });
  });

  it('tightens a looser existing DATA_DIR', () => {
    const dir = join(root, 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    makeStore(dir).load('u');
    expect(mode(dir)).toBe(0o700);
  });

  it('persists tokens and keeps the terminal UUID across instances; leaves no temp files', () => {
    const a = makeStore(root);
    const first = a.load('u');
    a.save({ token: 't1', refreshToken: 'r1', regionalUrl: 'https://r/' });
    const b = makeStore(root);
    expect(b.load('u')).toEqual({ terminalUUID: first.terminalUUID, username: 'u', token: 't1', refreshToken: 'r1', regionalUrl: 'https://r/' });
    expect(readdirSync(root)).toEqual(['session.json']);
    expect(mode(b.path)).toBe(0o600);
  });

  it('clearTokens keeps the terminal UUID and the regional host', () => {
    const store = makeStore(root);
    const s = store.load('u');
    store.save({ token: 't', refreshToken: 'r', regionalUrl: 'https://r/' });
    store.clearTokens();
    expect(makeStore(root).load('u')).toEqual({ terminalUUID: s.terminalUUID, username: 'u', regionalUrl: 'https://r/' });
  });

  it('drops tokens but keeps the terminal UUID when the user name changes', () => {
    const a = makeStore(root);
    const s = a.load('old@example.com');
    a.save({ token: 't', refreshToken: 'r' });
    const b = makeStore(root).load('new@example.com');
    expect(b).toEqual({ terminalUUID: s.terminalUUID, username: 'new@example.com' });
  });

  it.each([
    ['not JSON', '{"terminalUUID": '],
    ['wrong shape', '{"terminalUUID": "nope", "username": "u", "token": "leaked-token"}'],
    ['an array', '[]'],
  ])('replaces a corrupt file (%s) with a warning and no crash', (_what, content) => {
    writeFileSync(join(root, 'session.json'), content, { mode: 0o600 });
    const store = makeStore(root);
    const s = store.load('u');
    expect(s.token).toBeUndefined();
    expect(JSON.parse(readFileSync(store.path, 'utf8'))).toEqual({ terminalUUID: s.terminalUUID, username: 'u' });
    const warn = logLines.map((l) => JSON.parse(l) as { level: number; msg: string; path?: string }).find((l) => l.level === 40);
    expect(warn?.msg).toMatch(/session file .* replaced/);
    expect(warn?.path).toBe(store.path);
    expect(logLines.join('')).not.toContain('leaked-token');
  });

  it('fails clearly at load when DATA_DIR cannot be created', () => {
    const blocker = join(root, 'a-file');
    writeFileSync(blocker, 'x');
    const store = makeStore(join(blocker, 'data'));
    let err: unknown;
    try {
      store.load('u');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SessionStoreError);
    expect((err as SessionStoreError).path).toBe(join(blocker, 'data'));
    expect((err as Error).message).toMatch(/DATA_DIR .*a-file\/data cannot be created or used \(ENOTDIR\).*writable directory/);
  });

  it('fails clearly at load when DATA_DIR is a file', () => {
    const file = join(root, 'data');
    writeFileSync(file, 'x');
    expect(() => makeStore(file).load('u')).toThrow(SessionStoreError);
  });

  it('fails clearly when the session file cannot be replaced', () => {
    mkdirSync(join(root, 'session.json'));
    const store = makeStore(root);
    expect(() => store.load('u')).toThrow(/cannot write the session file .*session\.json \(E[A-Z]+\)/);
  });

  it.skipIf(process.getuid?.() === 0)('fails clearly when DATA_DIR is read-only (non-root only)', () => {
    chmodSync(root, 0o500);
    try {
      expect(() => makeStore(root).load('u')).toThrow(SessionStoreError);
    } finally {
      chmodSync(root, 0o700);
    }
  });

  it('refuses get()/save() before load()', () => {
    expect(() => makeStore(root).get()).toThrow(/load\(\)/);
  });
});

describe('SessionStore for another app identity', () => {
  it('keeps its own file beside session.json, with its own terminal UUID', () => {
    const kasa = makeStore(root);
    const tapo = new SessionStore({ dataDir: root, logger: createLogger({ level: 'silent' }), fileName: 'tapo-session.json' });
    const k = kasa.load('u');
    const t = tapo.load('u');
    tapo.save({ token: 'tapo-token' });
    expect(tapo.path).toBe(join(root, 'tapo-session.json'));
    expect(readdirSync(root).sort()).toEqual(['session.json', 'tapo-session.json']);
    expect(mode(tapo.path)).toBe(0o600);
    expect(t.terminalUUID).not.toBe(k.terminalUUID);
    expect(kasa.get().token).toBeUndefined();
    expect(JSON.parse(readFileSync(tapo.path, 'utf8'))).toMatchObject({ token: 'tapo-token', terminalUUID: t.terminalUUID });
  });

  it('reports a failed save under its own file name and keeps the tokens in memory', () => {
    const storage = new StorageStatus();
    const tapo = new SessionStore({ dataDir: root, logger: createLogger({ level: 'silent' }), fileName: 'tapo-session.json', storage });
    tapo.load('u');
    // A directory where the file should be: the atomic replace fails.
    rmSync(tapo.path);
    mkdirSync(tapo.path);
    writeFileSync(join(tapo.path, 'keep'), '');
    tapo.save({ token: 'kept-in-memory' });
    expect(tapo.get().token).toBe('kept-in-memory');
    expect(storage.error).toMatch(/^tapo-session\.json: not saved \(E[A-Z]+\)$/);
    expect(storage.error).not.toContain('kept-in-memory');
  });

  it('refuses a file name that is a path', () => {
    expect(() => new SessionStore({ dataDir: root, logger: createLogger({ level: 'silent' }), fileName: '../elsewhere.json' })).toThrow(/plain file name/);
  });
});
