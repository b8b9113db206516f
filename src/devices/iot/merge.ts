/** Request parts of the iot family merged into one passthrough `requestData`. */
export type RequestData = Record<string, unknown>;

/**
 * Several request parts as one `requestData`, in an order a device that runs methods textually
 * executes correctly: modules with setters only, then modules mixing setters and reads (setters
 * first inside), then read-only modules; `context` last. Reads are the `get_*` methods.
 */
export function mergeRequests(...parts: RequestData[]): RequestData {
  const modules = new Map<string, Map<string, unknown>>();
  let context: unknown;
  for (const part of parts) {
    for (const module of Object.keys(part)) {
      const body = part[module];
      if (module === 'context') {
        context = body;
        continue;
      }
      let methods = modules.get(module);
      if (methods === undefined) modules.set(module, (methods = new Map<string, unknown>()));
      if (typeof body === 'object' && body !== null) {
        for (const method of Object.keys(body)) methods.set(method, (body as Record<string, unknown>)[method]);
      }
    }
  }
  // Bucketed rather than sorted copies: this runs for every poll and every command.
  const byRank: [string, Map<string, unknown>][][] = [[], [], []];
  for (const entry of modules) byRank[rankOf(entry[1])]!.push(entry);
  const out: RequestData = {};
  for (const [module, methods] of byRank.flat()) {
    const ordered: Record<string, unknown> = {};
    for (const [method, args] of methods) if (!isRead(method)) ordered[method] = args;
    for (const [method, args] of methods) if (isRead(method)) ordered[method] = args;
    out[module] = ordered;
  }
  if (context !== undefined) out['context'] = context;
  return out;
}

const isRead = (method: string): boolean => method.startsWith('get_');

/** 0: setters only, 1: setters and reads, 2: reads only (or nothing). */
function rankOf(methods: Map<string, unknown>): number {
  let reads = 0;
  for (const method of methods.keys()) if (isRead(method)) reads++;
  if (reads === methods.size) return 2;
  return reads > 0 ? 1 : 0;
}

