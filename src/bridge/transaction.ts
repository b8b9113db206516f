import { isRecord } from '../isRecord.js';
import { structureProblem } from '../devices/setPayload.js';

/** The optional `transaction` of a JSON request, echoed in its response. */
export function transactionOf(value: unknown): { transaction?: unknown } {
  if (isRecord(value) && Object.hasOwn(value, 'transaction')) {
    const transaction = value.transaction;
    if (transaction !== undefined) return { transaction };
  }
  return {};
}

/** Best effort: the transaction of a raw JSON payload, to echo even when the request is refused. */
export function transactionOfPayload(payload: Buffer, maxBytes: number): { transaction?: unknown } {
  if (payload.length > maxBytes) return {};
  const text = payload.toString('utf8').trim();
  if (!text.startsWith('{')) return {};
  let found: { transaction?: unknown };
  try {
    found = transactionOf(JSON.parse(text));
  } catch {
    return {}; // not JSON: nothing to echo
  }
  // A transaction too deep to serialise again would lose the whole answer: leave it out.
  return structureProblem(found.transaction) === undefined ? found : {};
}
