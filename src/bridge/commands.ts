import type { CommandErrorCode, SetPayload, SetResponse } from '../api/types.js';
import {
  appliedData,
  isNotSupported,
  mergeSets,
  parseSetPayload,
  PROTOCOLS,
  setRequest,
  settingModules,
  unconfirmedAttributes,
  type RefusedMethod,
} from '../devices/families.js';
import { MAX_SET_PAYLOAD_BYTES } from '../devices/setPayload.js';
import type { DeviceNode } from '../devices/node.js';
import type { MqttMessage } from '../mqtt/connection.js';
import type { BridgeContext } from './context.js';
import { PartBase } from './partBase.js';
import { commandErrorCode, commandErrorMessage, describeError } from './errors.js';
import { transactionOfPayload } from './transaction.js';
import type { SetQueue } from './device.js';

const SESSION_NOT_USABLE = 'the cloud session is not usable: see kasa/bridge/auth';

interface Waiter {
  given: string;
  request: MqttMessage;
  receivedAt: number;
  transaction?: unknown;
}

/** Sets waiting for one request: merged while the request has not started. */
interface Batch {
  set: SetPayload;
  waiters: Waiter[];
  started: boolean;
}

/** Kept on the node's record (device.ts), so a node that goes away takes its queue. */
interface NodeQueue extends SetQueue {
  current: Batch;
  next?: Batch;
}

/**
 * `<base>/<key>/set`, `/set/<attr>` and `/get`. A set goes out at once; sets for the same node that
 * arrive while one is queued or in flight merge into the next request (later values win), so a
 * burst collapses into few requests while an isolated command pays nothing.
 */
export class CommandsExtension extends PartBase {
  readonly name = 'commands';
  readonly #log;

  constructor(ctx: BridgeContext) {
    super(ctx);
    this.#log = ctx.logger.child({ module: 'commands' });
  }

  override async start(): Promise<void> {
    const t = this.ctx.topics;
    const lane = { qos: 1, lane: 'commands' } as const;
    await this.subscribe(t.nodeSetFilter, (m) => this.#onSet(m), lane);
    await this.subscribe(t.nodeSetAttributeFilter, (m) => this.#onSet(m), lane);
    await this.subscribe(t.nodeGetFilter, (m) => this.#onGet(m), lane);
  }

  #onSet(message: MqttMessage): void {
    const [given = '', , attribute] = this.ctx.topics.levels(message.topic) ?? [];
    if (given === 'bridge' || message.retain) return;
    const receivedAt = performance.now();
    const node = this.ctx.registry.resolve(given);
    if (!node) {
      const [code, text] = this.#unknownDevice(given);
      this.#fail(given, message, receivedAt, undefined, code, text, transactionOfPayload(message.payload, MAX_SET_PAYLOAD_BYTES));
      return;
    }
    const parsed =
      message.payload.length > MAX_SET_PAYLOAD_BYTES
        ? { error: { code: 'invalid_payload' as const, message: `payload larger than ${MAX_SET_PAYLOAD_BYTES} bytes` } }
        : parseSetPayload(node, message.payload, attribute);
    if ('error' in parsed) {
      this.#fail(given, message, receivedAt, node, parsed.error.code, parsed.error.message, transactionOfPayload(message.payload, MAX_SET_PAYLOAD_BYTES));
      return;
    }
    const { transaction, ...set } = parsed.ok;
    const waiter: Waiter = { given, request: message, receivedAt, ...(transaction !== undefined ? { transaction } : {}) };
    if (!this.ctx.auth.usable) {
      this.#failWaiters(node, [waiter], 'auth_required', SESSION_NOT_USABLE);
      return;
    }
    if (!node.online) {
      this.#failWaiters(node, [waiter], 'device_offline', `${node.name} is offline in the Kasa cloud`);
      return;
    }
    this.#enqueue(node, set, waiter);
  }

  #queue(node: DeviceNode): NodeQueue | undefined {
    return this.ctx.registry.record(node.id)?.commands as NodeQueue | undefined;
  }

  #enqueue(node: DeviceNode, set: SetPayload, waiter: Waiter): void {
    const record = this.ctx.registry.record(node.id);
    if (!record) {
      this.#failWaiters(node, [waiter], 'unknown_device', `${node.name} is gone`);
      return;
    }
    const queue = this.#queue(node);
    if (!queue) {
      const batch: Batch = { set, waiters: [waiter], started: false };
      record.commands = { current: batch } satisfies NodeQueue;
      this.#send(node, batch);
      return;
    }
    if (!queue.current.started) {
      queue.current.set = mergeSets(queue.current.set, set);
      queue.current.waiters.push(waiter);
    } else if (queue.next) {
      queue.next.set = mergeSets(queue.next.set, set);
      queue.next.waiters.push(waiter);
    } else {
      queue.next = { set, waiters: [waiter], started: false };
    }
  }

  #send(node: DeviceNode, batch: Batch): void {
    const { registry, readings, scheduler } = this.ctx;
    const device = registry.device(node);
    const record = registry.record(node.id);
    if (!device?.self || !record) {
      this.#failWaiters(node, batch.waiters, 'unknown_device', `the strip of ${node.name} is gone`);
      this.#advance(node);
      return;
    }
    scheduler
      .run(
        'command',
        async (signal) => {
          batch.started = true;
          // TOGGLE resolves against the newest known state at the moment the request goes out.
          const children = node.parentId === undefined ? device.children().map((c) => c.info) : [];
          const request = setRequest(node, batch.set, record.peek(), device.requestOptions(), children);
          return { request, response: await readings.send(node, request, signal) };
        },
        { label: `set ${node.key}`, device: device.id },
      )
      .then(async ({ request, response }) => {
        let readBack = readings.apply(node, response);
        const refused = PROTOCOLS[node.protocol].refusedSetters(request, response);
        if (refused.length > 0) {
          this.#failWaiters(node, batch.waiters, refusedCode(refused), refusedMessage(node, refused));
          return;
        }
        if (settingModules(node, batch.set).some((m) => m.set?.restarts)) readings.expectRestart(node);
        // Methods normally run in textual order; if the read-back does not show the set, read once more.
        if (unconfirmedAttributes(node, batch.set, readBack).length > 0) {
          await readings.read(node, 'readback').catch(() => undefined);
          readBack = record.peek();
        }
        const data = appliedData(node, batch.set, readBack);
        for (const waiter of batch.waiters) this.#answer(waiter, { status: 'ok', data });
      })
      .catch((err: unknown) => {
        readings.failed(node, err);
        this.#log.warn({ id: node.id, key: node.key, err: describeError(err) }, 'command failed');
        this.#failWaiters(node, batch.waiters, commandErrorCode(err), commandErrorMessage(err));
      })
      .finally(() => this.#advance(node));
  }

  #advance(node: DeviceNode): void {
    const record = this.ctx.registry.record(node.id);
    const queue = this.#queue(node);
    if (!record || !queue) return;
    if (!queue.next) {
      record.commands = undefined;
      return;
    }
    queue.current = queue.next;
    delete queue.next;
    this.#send(node, queue.current);
  }

  #onGet(message: MqttMessage): void {
    const [given = ''] = this.ctx.topics.levels(message.topic) ?? [];
    if (given === 'bridge' || message.retain) return;
    const node = this.ctx.registry.resolve(given);
    if (!node) {
      this.#log.warn({ given }, `get refused: ${this.#unknownDevice(given)[1]}`);
      return;
    }
    this.ctx.readings
      .read(node, 'readback')
      .then(() => this.ctx.publisher.republish(node))
      .catch((err: unknown) => {
        this.#log.warn({ id: node.id, err: describeError(err) }, 'get failed');
        this.ctx.publisher.refreshAvailability(node);
      });
  }

  /**
   * Why `given` names no node: before the first device list, while the session is not usable,
   * every key is unknown only because nothing could be read yet.
   */
  #unknownDevice(given: string): [CommandErrorCode, string] {
    if (!this.ctx.auth.usable && !this.ctx.registry.listed) return ['auth_required', SESSION_NOT_USABLE];
    return ['unknown_device', `no device with key or id "${given}"`];
  }

  #answer(waiter: Waiter, result: Omit<SetResponse, 'latency_ms' | 'transaction'>): void {
    const latency = performance.now() - waiter.receivedAt;
    this.ctx.events.emit('commandAnswered', latency, result.status);
    const payload: SetResponse = {
      ...result,
      latency_ms: Math.round(latency),
      ...(waiter.transaction !== undefined ? { transaction: waiter.transaction } : {}),
    };
    void this.ctx.mqtt.respond(waiter.request, this.ctx.topics.nodeSetResponse(waiter.given), payload);
  }

  #failWaiters(node: DeviceNode, waiters: Waiter[], code: CommandErrorCode, message: string): void {
    for (const waiter of waiters) this.#answer(waiter, { status: 'error', error: { code, message } });
    this.ctx.publishEvent({ type: 'command_failed', id: node.id, key: node.key, error: { code, message } });
  }

  #fail(
    given: string,
    request: MqttMessage,
    receivedAt: number,
    node: DeviceNode | undefined,
    code: CommandErrorCode,
    message: string,
    transaction?: { transaction?: unknown },
  ): void {
    this.#answer({ given, request, receivedAt, ...transaction }, { status: 'error', error: { code, message } });
    this.ctx.publishEvent({ type: 'command_failed', id: node?.id ?? given, key: node?.key ?? given, error: { code, message } });
  }
}

/** A model without the module or method: `unsupported`; any other device refusal: `cloud_error`. */
function refusedCode(refused: RefusedMethod[]): CommandErrorCode {
  return refused.every(isNotSupported) ? 'unsupported' : 'cloud_error';
}

function refusedMessage(node: DeviceNode, refused: RefusedMethod[]): string {
  const what = refused.map((r) => `${r.module}.${r.method}: ${r.errMsg ?? 'error'} (${r.errCode})`).join('; ');
  return `${node.name} refused ${what}`;
}
