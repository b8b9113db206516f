import { isRecord } from '../isRecord.js';

/** The optional `transaction` of a JSON request, echoed in its response. */
export function transactionOf(value: unknown): { transaction?: unknown } {
  if (isRecord(value) && Object.hasOwn(value, 'transaction')) {
    const transaction = value.transaction;
    if (transaction !== undefined) return { transaction };
  }
  return {};
}
