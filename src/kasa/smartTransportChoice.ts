/**
 * Which SMART transport a device's requests take (docs/protocol.md, "SMART transports").
 *
 * Order: `tapo-passthrough` first, then `shadows`. The passthrough carries the whole SMART
 * protocol (state, energy, brightness, colour, firmware, the P300's outlets) and answers a poll
 * and a command in one request each; the shadows carry only on/off (and whatever else a shadow
 * reports), and a write needs the shadow's version (a read first when it is not known). The
 * shadows come second because they are the path the current apps use: they reach devices for
 * which the passthrough answers -20571 (docs/protocol.md, the S505 report).
 *
 * A transport that failed for a device is skipped for that device for a while (5 min, doubling up
 * to 6 h) and tried again after it; a success clears its record. When every transport is waiting
 * the choice is `none` with the reasons, and the caller reports the device unsupported for now.
 * Choosing looks at each transport once and sends nothing.
 *
 * The records live in `DATA_DIR/smart-transports.json` (0600, written durably), so a restart
 * neither forgets which transport works nor probes a failed one again before its time.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileDurably } from '../durableWrite.js';
import { isRecord } from '../isRecord.js';
import type { Logger } from '../logger.js';
import { storageErrorCode as errCode, type StorageStatus } from '../storageStatus.js';
import { KasaError } from './errors.js';
import type { SmartTransportName } from './smartTransport.js';

export const SMART_TRANSPORT_ORDER: readonly SmartTransportName[] = ['tapo-passthrough', 'shadows'];
export const SMART_TRANSPORTS_FILE = 'smart-transports.json';
export const TRANSPORT_BACKOFF_INITIAL_MS = 5 * 60_000;
export const TRANSPORT_BACKOFF_MAX_MS = 6 * 60 * 60_000;

export type SmartTransportPick =
  | { transport: SmartTransportName; /** It failed before and its wait is over. */ retry: boolean }
  | { transport: 'none'; /** Why each transport is waiting, for the "unsupported for now" report. */ reason: string; /** When the first wait ends (ms epoch). */ retryAt: number };

interface Failure {
  /** Failures in a row. */
  count: number;
  /** Skipped until then (ms epoch). */
  until: number;
  reason: string;
}

interface DeviceRecord {
  /** The transport that answered last. */
  working?: SmartTransportName;
  failures: Partial<Record<SmartTransportName, Failure>>;
}

export interface SmartTransportChoiceOptions {
  dataDir: string;
  logger: Logger;
  /** Where a failed save is reported (the records stay in memory); without it a save failure throws. */
  storage?: StorageStatus | undefined;
  /** The transports the bridge has, in order of preference; default SMART_TRANSPORT_ORDER. */
  order?: readonly SmartTransportName[] | undefined;
  now?: (() => number) | undefined;
}

/**
 * Whether a failure says the transport does not carry the device (count it against the
 * transport), rather than something about the session, the network or the cloud as a whole
 * (those are retried the usual way and say nothing about the transport).
 */
export function failsTransport(err: unknown): boolean {
  return err instanceof KasaError && (err.action === 'unsupported' || err.action === 'device_offline' || err.action === 'report');
}

/** The wait after `count` failures in a row: 5 min, doubling, at most 6 h. */
export function backoffMs(count: number): number {
  return Math.min(TRANSPORT_BACKOFF_INITIAL_MS * 2 ** Math.max(0, Math.min(count - 1, 30)), TRANSPORT_BACKOFF_MAX_MS);
}

export class SmartTransportChoice {
  readonly path: string;
  private readonly order: readonly SmartTransportName[];
  private readonly log: Logger;
  private readonly storage: StorageStatus | undefined;
  private readonly now: () => number;
  private readonly devices = new Map<string, DeviceRecord>();

  constructor(options: SmartTransportChoiceOptions) {
    this.path = join(resolve(options.dataDir), SMART_TRANSPORTS_FILE);
    this.order = options.order ?? SMART_TRANSPORT_ORDER;
    this.log = options.logger.child({ module: 'smart-transports' });
    this.storage = options.storage;
    this.now = options.now ?? Date.now;
    this.load();
  }

  /** The transport for the device's next request, or `none` while every one is waiting. */
  choose(deviceId: string): SmartTransportPick {
    const record = this.devices.get(deviceId);
    const now = this.now();
    for (const transport of this.order) {
      const failure = record?.failures[transport];
      if (failure === undefined) return { transport, retry: false };
      if (now >= failure.until) return { transport, retry: true };
    }
    const waiting = this.order.map((t) => [t, record!.failures[t]!] as const);
    if (waiting.length === 0) return { transport: 'none', reason: 'no SMART transport is configured', retryAt: Infinity };
    return {
      transport: 'none',
      reason: waiting.map(([t, f]) => `${t}: ${f.reason}`).join('; '),
      retryAt: Math.min(...waiting.map(([, f]) => f.until)),
    };
  }

  /** The transport that answered last for the device, if any. */
  working(deviceId: string): SmartTransportName | undefined {
    return this.devices.get(deviceId)?.working;
  }

  /** The transport answered for the device: remember it, forget its failures. Saves only on a change. */
  succeeded(deviceId: string, transport: SmartTransportName): void {
    const record = this.devices.get(deviceId) ?? { failures: {} };
    if (record.working === transport && record.failures[transport] === undefined) return;
    if (record.working !== transport) this.log.info({ deviceId, transport }, 'SMART device answers on this transport');
    record.working = transport;
    delete record.failures[transport];
    this.devices.set(deviceId, record);
    this.save();
  }

  /** The transport does not carry the device (see `failsTransport`): skip it for the next wait. */
  failed(deviceId: string, transport: SmartTransportName, reason: string): void {
    const record = this.devices.get(deviceId) ?? { failures: {} };
    const count = (record.failures[transport]?.count ?? 0) + 1;
    const wait = backoffMs(count);
    record.failures[transport] = { count, until: this.now() + wait, reason: reason.slice(0, 200) };
    if (record.working === transport) delete record.working;
    this.devices.set(deviceId, record);
    this.log.info({ deviceId, transport, failures: count, waitMinutes: Math.round(wait / 60_000) }, 'SMART transport failed for the device; trying it again later');
    this.save();
  }

  /** Drops the records of devices no longer on the account. */
  retain(deviceIds: Iterable<string>): void {
    const keep = new Set(deviceIds);
    let changed = false;
    for (const id of [...this.devices.keys()]) {
      if (keep.has(id)) continue;
      this.devices.delete(id);
      changed = true;
    }
    if (changed) this.save();
  }

  /** A missing file is a first start; an unreadable or malformed one is logged and starts empty. */
  private load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if (errCode(err) !== 'ENOENT') this.log.warn({ path: this.path, error: errCode(err) }, 'SMART transport records unreadable; starting without them');
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.log.warn({ path: this.path, bytes: text.length }, 'SMART transport records are not valid JSON; starting without them');
      return;
    }
    const devices = isRecord(parsed) && isRecord(parsed['devices']) ? parsed['devices'] : undefined;
    if (devices === undefined) {
      this.log.warn({ path: this.path }, 'SMART transport records have an unexpected shape; starting without them');
      return;
    }
    for (const [deviceId, value] of Object.entries(devices)) {
      const record = this.validRecord(value);
      if (record !== undefined) this.devices.set(deviceId, record);
    }
  }

  private validRecord(value: unknown): DeviceRecord | undefined {
    if (!isRecord(value)) return undefined;
    const record: DeviceRecord = { failures: {} };
    const working = value['working'];
    if (typeof working === 'string' && this.order.includes(working as SmartTransportName)) record.working = working as SmartTransportName;
    const failures = isRecord(value['failures']) ? value['failures'] : {};
    for (const transport of this.order) {
      const f = failures[transport];
      if (!isRecord(f)) continue;
      const { count, until, reason } = f;
      if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || typeof until !== 'number' || !Number.isFinite(until)) continue;
      // A clock set back must not stretch a wait beyond its longest.
      const capped = Math.min(until, this.now() + TRANSPORT_BACKOFF_MAX_MS);
      record.failures[transport] = { count, until: capped, reason: typeof reason === 'string' ? reason : 'failed' };
    }
    return record;
  }

  /** Writes every record; a failure is reported to `storage` (kept in memory) or thrown without it. */
  private save(): void {
    const devices = Object.fromEntries([...this.devices].map(([id, r]) => [id, r]));
    try {
      writeFileDurably(this.path, `${JSON.stringify({ devices }, null, 2)}\n`);
      this.storage?.saved(SMART_TRANSPORTS_FILE);
    } catch (err) {
      if (this.storage === undefined) {
        throw new Error(`cannot write ${this.path} (${errCode(err)}); make DATA_DIR writable by this user`, { cause: err });
      }
      this.log.warn({ path: this.path, error: errCode(err) }, 'cannot save the SMART transport records; they are kept in memory until a save succeeds');
      this.storage.failed(SMART_TRANSPORTS_FILE, `not saved (${errCode(err)})`);
    }
  }
}

