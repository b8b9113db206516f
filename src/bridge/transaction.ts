/** The optional `transaction` of a JSON request, echoed in its response. */
export function transactionOf(value: unknown): { transaction?: unknown } {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, 'transaction')) {
    const transaction = (value as Record<string, unknown>).transaction;
    if (transaction !== undefined) return { transaction };
  }
  return {};
}
