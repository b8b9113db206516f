/** Reading a node's published state and discovery through the observer, waiting for what a test expects. */
import type { NodeState } from '../../src/api/types.js';
import { both, nonEmpty, since, type ObservedMessage, type Observer } from './mqttObserver.js';

export interface Component {
  platform: string;
  value_template?: string;
  command_topic?: string;
  [key: string]: unknown;
}

type Components = Record<string, Component>;

export interface NodeWatch {
  /** The newest state of `key` satisfying `predicate` (the last one seen, or the next to come). */
  stateOf(key: string, predicate: (s: NodeState) => boolean): Promise<NodeState>;
  /** The newest discovery config of a node whose components satisfy `predicate` (waits for it). */
  components(deviceId: string, predicate?: (c: Components) => boolean): Promise<Components>;
  /** A fresh read of a node (`/get`), returning the state it publishes. */
  refreshed(key: string): Promise<NodeState>;
}

export function nodeWatch(obs: Observer, { base = 'kasa', prefix = 'homeassistant', timeoutMs = 10_000 } = {}): NodeWatch {
  const configTopic = (deviceId: string) => `${prefix}/device/kasa_${deviceId}/config`;
  return {
    async stateOf(key, predicate) {
      const latest = obs.on(`${base}/${key}`).filter(nonEmpty).at(-1);
      if (latest && predicate(latest.json<NodeState>())) return latest.json<NodeState>();
      return (await obs.next(`${base}/${key}`, (m) => nonEmpty(m) && predicate(m.json<NodeState>()), timeoutMs)).json<NodeState>();
    },
    async components(deviceId, predicate = () => true) {
      const pick = (m: ObservedMessage) => nonEmpty(m) && predicate(m.json<{ components: Components }>().components);
      const latest = obs.on(configTopic(deviceId)).filter(nonEmpty).at(-1);
      const message = latest && pick(latest) ? latest : await obs.next(configTopic(deviceId), pick, timeoutMs);
      return message.json<{ components: Components }>().components;
    },
    async refreshed(key) {
      const next = obs.next(`${base}/${key}`, both(nonEmpty, since(obs)), 10_000);
      await obs.publish(`${base}/${key}/get`, '', { qos: 1 });
      return (await next).json<NodeState>();
    },
  };
}
