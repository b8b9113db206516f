/** A child id as the device sent it → the full outlet id (`"01"` → parent id + `01`). */
export function normaliseChildId(parentId: string, childId: string): string {
  return /^\d{1,2}$/.test(childId) ? parentId + childId.padStart(2, '0') : childId;
}
