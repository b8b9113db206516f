/**
 * Topic keys (docs/mqtt-api.md, "Topic keys"): made once from the alias, stored in `DATA_DIR/topic-keys.json`,
 * and never changed by an alias change or a restart; only `rename` changes one.
 */
import { mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from '../durableWrite.js';
import type { Logger } from '../logger.js';
import { isRecord } from '../isRecord.js';
import { storageErrorCode, type StorageStatus } from '../storageStatus.js';

export const TOPIC_KEYS_FILE = 'topic-keys.json';
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['bridge']);
export const MAX_KEY_LENGTH = 64;
const VALID_KEY = /^[a-z0-9_]+$/;
const PLAUSIBLE_ID = /^[A-Za-z0-9_-]{1,128}$/;
const OBJECT_BUILTINS = new Set(['__proto__', 'constructor', 'prototype']);
/** How long a rename's save waits for more renames to share it. */
const RENAME_SAVE_DELAY_MS = 1_000;

/** Alias → key: lower case, runs outside `[a-z0-9]` → `_`, trimmed of `_`; empty → the id (lower case). */
export function slugKey(name: string, id: string): string {
  const slug = (s: string) => s.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  return slug(name) || slug(id) || 'device';
}

/** Why `key` cannot be a topic key, or undefined when it can. */
export function keyProblem(key: string): string | undefined {
  if (key.length === 0) return 'a topic key cannot be empty';
  if (key.length > MAX_KEY_LENGTH) return `a topic key has at most ${MAX_KEY_LENGTH} characters`;
  if (RESERVED_KEYS.has(key)) return `"${key}" is reserved`;
  if (!VALID_KEY.test(key)) {
    return `use lower-case letters, digits and "_" only (e.g. "${slugKey(key, 'device').slice(0, MAX_KEY_LENGTH)}")`;
  }
  return undefined;
}

export type RenameResult =
  | { ok: { id: string; from: string; to: string } }
  | { error: { code: 'unknown_device' | 'invalid_key' | 'key_taken'; message: string } };

export interface TopicKeyStoreOptions {
  /** DATA_DIR; created 0700 when missing. Without it the store lives in memory only. */
  dataDir?: string;
  /** Receives problems the store recovered from (corrupt file, failed write) as warnings. */
  logger?: Pick<Logger, 'warn'>;
  /** Called with the same problems, for callers without a logger. */
  onWarning?: (message: string) => void;
  /** Told whether each save succeeded (`storage_error` on bridge/state and /readyz). */
  storage?: StorageStatus;
}

interface Entry {
  id: string;
  key: string;
}

export class TopicKeyStore {
  /** Entries by upper-cased id, so ids match case-insensitively. */
  private readonly byId = new Map<string, Entry>();
  private readonly byKey = new Map<string, Entry>();

  private readonly file: string | undefined;
  private readonly onWarning: (message: string) => void;
  private readonly storage: StorageStatus | undefined;
  private batching = 0;
  private dirty = false;
  private pendingSave: NodeJS.Timeout | undefined;

  /**
   * Loads `DATA_DIR/topic-keys.json`. A corrupt file is reported, set aside as
   * `topic-keys.json.corrupt-<ms>` and rebuilt from the aliases; it never stops the bridge.
   */
  constructor(options: TopicKeyStoreOptions = {}) {
    const { dataDir, logger, onWarning } = options;
    this.storage = options.storage;
    this.onWarning = (message) => {
      logger?.warn(message);
      onWarning?.(message);
    };
    if (dataDir !== undefined) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.file = dataDir === undefined ? undefined : join(dataDir, TOPIC_KEYS_FILE);
    this.load();
  }

  /** A store that is never written, seeded with id → key (tests, dry runs). */
  static inMemory(keys: Readonly<Record<string, string>> = {}): TopicKeyStore {
    const store = new TopicKeyStore();
    for (const [id, key] of Object.entries(keys)) store.add(id, key);
    return store;
  }

  keyOf(id: string): string | undefined {
    return this.byId.get(id.toUpperCase())?.key;
  }

  /**
   * Runs `work` with saves held back, then saves once if anything changed. Without it a first
   * device list of 1,000 devices rewrites and fsyncs a growing file 1,000 times, synchronously.
   */
  batch<T>(work: () => T): T {
    this.batching++;
    try {
      return work();
    } finally {
      if (--this.batching === 0 && this.dirty) this.save();
    }
  }

  /** The node's key: the stored one, else a new one made from `name` (clash → `_` + last 4 hex of the id), saved at once (or at the end of a batch). */
  keyFor(id: string, name: string): string {
    const existing = this.keyOf(id);
    if (existing !== undefined) return existing;
    const key = this.freeKey(slugKey(name, id).slice(0, MAX_KEY_LENGTH - 5), id);
    this.add(id, key);
    this.save();
    return key;
  }

  /** A key, a device id or an outlet child id (ids case-insensitive) → the node id. */
  resolve(keyOrId: string): string | undefined {
    return (this.byKey.get(keyOrId) ?? this.byKey.get(keyOrId.toLowerCase()) ?? this.byId.get(keyOrId.toUpperCase()))?.id;
  }

  /** Gives a node (by key or id) a new key; answers the old one. */
  rename(keyOrId: string, newKey: string): RenameResult {
    const id = this.resolve(keyOrId);
    const entry = id === undefined ? undefined : this.byId.get(id.toUpperCase());
    if (!entry) return { error: { code: 'unknown_device', message: `no device with key or id "${keyOrId.slice(0, 64)}"` } };
    const problem = keyProblem(newKey);
    if (problem) return { error: { code: 'invalid_key', message: `invalid topic key: ${problem}` } };
    const from = entry.key;
    if (newKey === from) return { ok: { id: entry.id, from, to: newKey } };
    if (this.isTaken(newKey, entry.id)) {
      return { error: { code: 'key_taken', message: `topic key "${newKey}" is already used by another device` } };
    }
    this.byKey.delete(from);
    entry.key = newKey;
    this.byKey.set(newKey, entry);
    this.saveSoon();
    return { ok: { id: entry.id, from, to: newKey } };
  }

  /** Drops a node's key (explicit removal only: a device that disappears keeps its key for when it returns). */
  forget(id: string): boolean {
    const entry = this.byId.get(id.toUpperCase());
    if (!entry) return false;
    this.byId.delete(id.toUpperCase());
    this.byKey.delete(entry.key);
    this.save();
    return true;
  }

  /** Writes a save that is still waiting (at shutdown). */
  flush(): void {
    if (!this.pendingSave) return;
    clearTimeout(this.pendingSave);
    this.pendingSave = undefined;
    this.save();
  }

  /** id → key of every stored node. */
  entries(): Map<string, string> {
    return new Map([...this.byId.values()].map((e) => [e.id, e.key]));
  }

  /** Renames come in bursts (a script, a flood): one save, with an fsync, for the whole burst. */
  private saveSoon(): void {
    if (!this.file || this.pendingSave) return;
    this.pendingSave = setTimeout(() => {
      this.pendingSave = undefined;
      this.save();
    }, RENAME_SAVE_DELAY_MS);
    this.pendingSave.unref();
  }

  private freeKey(base: string, id: string): string {
    if (!this.isTaken(base, id)) return base;
    const hex = slugKey(id, id);
    for (const suffix of [hex.slice(-4), hex.slice(-8), hex]) {
      const candidate = `${base}_${suffix}`;
      if (!this.isTaken(candidate, id)) return candidate;
    }
    for (let n = 2; ; n++) {
      const candidate = `${base}_${hex.slice(-4)}_${n}`;
      if (!this.isTaken(candidate, id)) return candidate;
    }
  }

  /** Taken: reserved, another node's key, or another node's id (a key must not shadow an id in `resolve`). */
  private isTaken(key: string, id: string): boolean {
    if (RESERVED_KEYS.has(key)) return true;
    const owner = this.byKey.get(key);
    if (owner && owner.id.toUpperCase() !== id.toUpperCase()) return true;
    const idOwner = this.byId.get(key.toUpperCase());
    return idOwner !== undefined && idOwner.id.toUpperCase() !== id.toUpperCase();
  }

  private add(id: string, key: string): void {
    const entry = { id, key };
    this.byId.set(id.toUpperCase(), entry);
    this.byKey.set(key, entry);
  }

  private load(): void {
    if (!this.file) return;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      this.onWarning(`cannot read ${this.file} (${(err as Error).message}); topic keys will be made anew`);
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const keys = isRecord(parsed) && parsed['version'] === 1 ? parsed['keys'] : undefined;
    if (!isRecord(keys)) {
      const backup = this.setAside();
      this.onWarning(
        `${this.file} is corrupt${backup ? ` (kept as ${backup})` : ''}; topic keys will be made anew from the aliases`,
      );
      return;
    }
    const dropped: string[] = [];
    for (const [id, key] of Object.entries(keys)) {
      const usable =
        typeof key === 'string' &&
        keyProblem(key) === undefined &&
        PLAUSIBLE_ID.test(id) &&
        !OBJECT_BUILTINS.has(id) &&
        !this.isTaken(key, id) &&
        !this.keyOf(id);
      if (usable) this.add(id, key);
      else dropped.push(id);
    }
    if (dropped.length > 0) {
      this.onWarning(`${this.file}: ignored ${dropped.length} unusable entr${dropped.length === 1 ? 'y' : 'ies'}`);
    }
  }

  private setAside(): string | undefined {
    if (!this.file) return undefined;
    const backup = `${this.file}.corrupt-${Date.now()}`;
    try {
      renameSync(this.file, backup);
      return backup;
    } catch {
      return undefined;
    }
  }

  /** Durable write (writeFileDurably); a failure keeps the keys in memory and is reported. */
  private save(): void {
    if (!this.file) return;
    if (this.batching > 0) {
      this.dirty = true;
      return;
    }
    this.dirty = false;
    const keys = Object.fromEntries([...this.byId.values()].map(({ id, key }) => [id, key]));
    try {
      writeFileDurably(this.file, `${JSON.stringify({ version: 1, keys }, null, 2)}\n`);
      this.storage?.saved(TOPIC_KEYS_FILE);
    } catch (err) {
      this.onWarning(`cannot save topic keys to ${this.file}: ${(err as Error).message}`);
      this.storage?.failed(TOPIC_KEYS_FILE, `not saved (${storageErrorCode(err)})`);
    }
  }
}
