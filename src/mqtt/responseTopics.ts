import { isValidTopicName } from './topicMatch.js';

/** How many refused response topics are remembered, so each is warned about once. */
const MAX_WARNED_TOPICS = 256;
/** How much of a refused topic is logged (and remembered). */
const SHOWN_TOPIC_CHARS = 200;

/**
 * Why an MQTT 5 response topic is another system's command topic (undefined when it is not), by
 * the conventions of this bridge, zigbee2mqtt, Home Assistant and Tasmota. Answering there would
 * let any client make the bridge send a command with the bridge's broker rights (confused deputy).
 */
export function commandTopicReason(topic: string, discoveryPrefix: string | undefined, baseTopic?: string): string | undefined {
  if (!isValidTopicName(topic)) return 'not a topic name (empty or a wildcard)';
  if (topic.startsWith('$')) return 'a broker topic ($…)';
  // The bridge's own namespace: its retained state, availability, auth and info, its event and
  // answer topics and its MFA input. An answer there would be a forged bridge message.
  if (baseTopic !== undefined && (topic === baseTopic || topic.startsWith(`${baseTopic}/`))) {
    return `one of this bridge's own topics (under "${baseTopic}")`;
  }
  const levels = topic.split('/');
  if (levels.includes('set') || levels.includes('get')) return 'a set/get command topic';
  if (levels.includes('request')) return 'a request topic (…/request/…)';
  if (levels.includes('cmnd')) return 'a Tasmota command topic (cmnd)';
  if (discoveryPrefix !== undefined && (topic === discoveryPrefix || topic.startsWith(`${discoveryPrefix}/`))) {
    return `under the Home Assistant discovery prefix "${discoveryPrefix}"`;
  }
  return undefined;
}

/**
 * Decides where a request's answer may also go, and warns once per refused topic. MQTT 5 gives
 * no client id with a message, so the topic is what is remembered; the set is bounded, and past
 * its size refusals are no longer logged one by one.
 */
export class ResponseTopicGuard {
  readonly #warned = new Set<string>();
  #overflowWarned = false;

  constructor(
    private readonly discoveryPrefix: string | undefined,
    private readonly warn: (fields: Record<string, unknown>, message: string) => void,
    private readonly baseTopic?: string,
  ) {}

  /** True when answering on `topic` is allowed. */
  allows(topic: string): boolean {
    const reason = commandTopicReason(topic, this.discoveryPrefix, this.baseTopic);
    if (reason === undefined) return true;
    // A topic may be 64 KiB: what is remembered is its logged head and its length, copied (V8's
    // slice of a long string keeps the whole string alive).
    const key = topic.length > SHOWN_TOPIC_CHARS ? Buffer.from(`${topic.slice(0, SHOWN_TOPIC_CHARS)}\u0000${topic.length}`).toString() : topic;
    if (this.#warned.has(key)) return false;
    if (this.#warned.size < MAX_WARNED_TOPICS) {
      this.#warned.add(key);
      this.#log(topic, reason);
    } else if (!this.#overflowWarned) {
      this.#overflowWarned = true;
      this.warn({ remembered: MAX_WARNED_TOPICS }, 'many refused MQTT 5 response topics; further ones are refused without a warning');
    }
    return false;
  }

  #log(topic: string, reason: string): void {
    this.warn(
      { responseTopic: topic.slice(0, SHOWN_TOPIC_CHARS), reason },
      'refused an MQTT 5 response topic that is a command topic; answered on the normal response topic only',
    );
  }
}
