import { request } from 'node:http';
import { isIPv6 } from 'node:net';

export interface HealthcheckOptions {
  /** Give up after this long (default 3000 ms). */
  timeoutMs?: number;
  /** Where the one-line reason goes on failure (default stderr). */
  writeError?: (line: string) => void;
}

interface Probe {
  status: number;
  body: string;
}

const MAX_BODY_BYTES = 64 * 1024;

/**
 * `kasa2mqtt healthcheck`: GET /healthz (liveness) on HEALTH_HOST:HEALTH_PORT, for npm installs
 * (the image's HEALTHCHECK asks the same with busybox wget, without a second node process).
 * Returns the exit code: 0 when alive, 1 otherwise, with one line on stderr saying why.
 * Reads only the two variables (the CLI passes the environment over `./.env`, as the daemon reads
 * them), so a container with incomplete config can still be probed.
 */
export async function runHealthcheck(env: NodeJS.ProcessEnv = process.env, options: HealthcheckOptions = {}): Promise<number> {
  const writeError = options.writeError ?? ((line: string) => process.stderr.write(`${line}\n`));
  const target = resolveTarget(env);
  if (typeof target === 'string') {
    writeError(`healthcheck: ${target}`);
    return 1;
  }
  let probe: Probe;
  try {
    probe = await get(target.host, target.port, options.timeoutMs ?? 3000);
  } catch (err) {
    writeError(`healthcheck: ${target.display} unreachable: ${describeError(err)}`);
    return 1;
  }
  if (probe.status === 200) return 0;
  writeError(`healthcheck: ${target.display} answered ${probe.status}${describeReasons(probe.body)}`);
  return 1;
}

interface Target {
  host: string;
  port: number;
  display: string;
}

/** The address to ask, or why there is none. */
function resolveTarget(env: NodeJS.ProcessEnv): Target | string {
  const rawPort = env.HEALTH_PORT?.trim() ?? '';
  if (rawPort === '' || rawPort === '0') return 'HEALTH_PORT is not set (the health server is off)';
  const port = Number(rawPort);
  if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) return `HEALTH_PORT is not a valid port: ${JSON.stringify(rawPort)}`;
  let host = env.HEALTH_HOST?.trim() || '127.0.0.1';
  // A wildcard listen address is not somewhere to connect to: ask loopback of the same family.
  if (host === '0.0.0.0') host = '127.0.0.1';
  else if (host === '::' || host === '[::]') host = '::1';
  host = host.replace(/^\[(.*)\]$/, '$1');
  const display = `${isIPv6(host) ? `[${host}]` : host}:${port}/healthz`;
  return { host, port, display };
}

function get(host: string, port: number, timeoutMs: number): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host, port, path: '/healthz', method: 'GET', agent: false, signal: AbortSignal.timeout(timeoutMs), headers: { Accept: 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_BODY_BYTES) chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function describeReasons(body: string): string {
  try {
    const parsed = JSON.parse(body) as { reasons?: unknown };
    if (Array.isArray(parsed.reasons)) {
      const reasons = parsed.reasons.filter((r): r is string => typeof r === 'string');
      if (reasons.length > 0) return `: ${reasons.join('; ')}`;
    }
  } catch {
    // Not our JSON (something else on that port): the status code says enough.
  }
  return '';
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    if (err.name === 'AbortError' || err.name === 'TimeoutError') return 'no answer in time';
    const code = (err as NodeJS.ErrnoException).code;
    return code ?? err.message;
  }
  return String(err);
}
