import type { IPublishPacket } from 'mqtt';
import { topicMatches } from './topicMatch.js';

/** One message delivered to a subscription handler. */
export interface IncomingMessage {
  topic: string;
  payload: Buffer;
  /**
   * The retain flag as received: true for a retained message sent because of the subscription;
   * for a live publish only under MQTT 5 with `retainAsPublished` (otherwise brokers clear it).
   */
  retain: boolean;
  /** MQTT 5 request/response properties, when the publisher set them. */
  properties?: {
    responseTopic?: string;
    correlationData?: Buffer;
    userProperties?: Record<string, string | string[]>;
  };
}

export type MessageHandler = (message: IncomingMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /** Default 1. */
  qos?: 0 | 1;
  /** MQTT 5 "retain as published"; ignored under 3.1.1. */
  retainAsPublished?: boolean;
  /** MQTT 5 "no local" (do not receive our own publishes); ignored under 3.1.1. */
  noLocal?: boolean;
  /** `commands`: on the command connection when there is one (see commandLane.ts). */
  lane?: 'commands';
}

export interface HandlerEntry {
  readonly handler: MessageHandler;
  readonly qos: 0 | 1;
  readonly rap: boolean;
  readonly nl: boolean;
}

/** Everything subscribed with one filter: one broker subscription, any number of handlers. */
export interface FilterGroup {
  readonly filter: string;
  /** MQTT 5 subscription identifier (1…268435455), stable for the group's lifetime. */
  readonly id: number;
  readonly entries: Set<HandlerEntry>;
  /** Connection generation on which the broker acknowledged the subscription (0: none yet). */
  activeOn: number;
  /** Options key of that acknowledged subscription. */
  activeKey: string;
  /** Resolvers of subscribe() calls waiting for the SUBACK. */
  waiters: Array<() => void>;
}

export interface MergedOptions {
  qos: 0 | 1;
  rap: boolean;
  nl: boolean;
}

const MAX_SUBSCRIPTION_ID = 268_435_455;

/** Our own subscription table: survives reconnects, protocol fallback and new mqtt.js clients. */
export class SubscriptionTable {
  readonly #groups = new Map<string, FilterGroup>();
  readonly #byId = new Map<number, FilterGroup>();
  #nextId = 1;

  add(filter: string, handler: MessageHandler, options: SubscribeOptions): { group: FilterGroup; entry: HandlerEntry } {
    let group = this.#groups.get(filter);
    if (!group) {
      group = { filter, id: this.#allocateId(), entries: new Set(), activeOn: 0, activeKey: '', waiters: [] };
      this.#groups.set(filter, group);
      this.#byId.set(group.id, group);
    }
    const entry: HandlerEntry = {
      handler,
      qos: options.qos ?? 1,
      rap: options.retainAsPublished ?? false,
      nl: options.noLocal ?? false,
    };
    group.entries.add(entry);
    return { group, entry };
  }

  /** Remove one handler; true when its group became empty and was dropped (unsubscribe at the broker). */
  remove(group: FilterGroup, entry: HandlerEntry): boolean {
    if (!group.entries.delete(entry)) return false;
    if (group.entries.size > 0 || this.#groups.get(group.filter) !== group) return false;
    this.#groups.delete(group.filter);
    this.#byId.delete(group.id);
    for (const resolve of group.waiters.splice(0)) resolve();
    return true;
  }

  groups(): FilterGroup[] {
    return [...this.#groups.values()];
  }

  /**
   * The groups a message belongs to: by MQTT 5 subscription identifiers when the broker sent them
   * (each copy of an overlapping match carries its own id and retain flag), else by filter matching.
   */
  match(topic: string, ids: number | number[] | undefined): FilterGroup[] {
    if (ids !== undefined) {
      const list = Array.isArray(ids) ? ids : [ids];
      const groups = list.map((id) => this.#byId.get(id)).filter((g): g is FilterGroup => g !== undefined);
      if (groups.length > 0) return groups;
    }
    return this.groups().filter((g) => topicMatches(g.filter, topic));
  }

  /** Resolve every pending subscribe() (on stop). */
  releaseAll(): void {
    for (const group of this.#groups.values()) for (const resolve of group.waiters.splice(0)) resolve();
  }

  #allocateId(): number {
    for (;;) {
      const id = this.#nextId;
      this.#nextId = id >= MAX_SUBSCRIPTION_ID ? 1 : id + 1;
      if (!this.#byId.has(id)) return id;
    }
  }
}

/** The broker-side options for a group: highest QoS; rap if any handler asks; nl only if all ask. */
export function mergedOptions(group: FilterGroup): MergedOptions {
  let qos: 0 | 1 = 0;
  let rap = false;
  let nl = true;
  for (const e of group.entries) {
    if (e.qos === 1) qos = 1;
    if (e.rap) rap = true;
    if (!e.nl) nl = false;
  }
  if (group.entries.size === 0) nl = false;
  return { qos, rap, nl };
}

export function optionsKey(o: MergedOptions): string {
  return `${o.qos}|${o.rap ? 1 : 0}|${o.nl ? 1 : 0}`;
}

/** The handler's view of a received PUBLISH. */
export function toIncomingMessage(topic: string, payload: Buffer, packet: IPublishPacket): IncomingMessage {
  const props = packet.properties;
  const message: IncomingMessage = { topic, payload, retain: packet.retain };
  if (props?.responseTopic !== undefined || props?.correlationData !== undefined || props?.userProperties !== undefined) {
    message.properties = {
      ...(props.responseTopic !== undefined ? { responseTopic: props.responseTopic } : {}),
      ...(props.correlationData !== undefined ? { correlationData: props.correlationData } : {}),
      ...(props.userProperties !== undefined ? { userProperties: props.userProperties } : {}),
    };
  }
  return message;
}
