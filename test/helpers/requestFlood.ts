import type { BridgeResponse } from '../../src/api/types.js';
import type { Harness } from './bridgeHarness.js';
import { waitFor } from './mqttObserver.js';

/**
 * Publishes `count` requests `<base>/bridge/request/<cmd>` as fast as the broker takes them and
 * returns their answers in request order (matched by transaction).
 */
export async function floodRequests(h: Harness, cmd: string, count: number, body: (i: number) => Record<string, unknown> = () => ({})): Promise<BridgeResponse[]> {
  const tag = `${cmd}-flood-${Math.random().toString(36).slice(2, 8)}`;
  const topic = `${h.base}/bridge/response/${cmd}`;
  for (let i = 0; i < count; i++) {
    await h.obs.publish(`${h.base}/bridge/request/${cmd}`, JSON.stringify({ ...body(i), transaction: `${tag}-${i}` }), { qos: 1 });
  }
  const answers = new Map<string, BridgeResponse>();
  await waitFor(
    () => {
      for (const m of h.obs.on(topic)) {
        const answer = m.json<BridgeResponse>();
        if (typeof answer.transaction === 'string' && answer.transaction.startsWith(`${tag}-`)) answers.set(answer.transaction, answer);
      }
      return answers.size === count;
    },
    20_000,
    `${count} answers on ${topic}`,
  );
  return Array.from({ length: count }, (_, i) => answers.get(`${tag}-${i}`)!);
}
