/** What the demo prints: the instructions, progress lines, and bridge logs made readable. */
import { topics } from '../api/types.js';
import type { DestinationStream } from 'pino';

export interface InstructionsInput {
  host: string;
  port: number;
  /** Extra `mosquitto_*` arguments for broker credentials (already shell-quoted), or ''. */
  authArgs: string;
  baseTopic: string;
  mfaCode: string;
  /** Whether the bridge is waiting for the code (false: a stored session was reused). */
  mfaPending: boolean;
  plugKey: string;
  lightKey: string;
  brokerLine: string;
  /** The demo's broker speaks MQTT 3.1.1 only; why mosquitto is not used instead. */
  mqtt311Only?: string | undefined;
  cloudLine: string;
  dataDirLine: string;
  deviceCount: number;
  /** The demo started its own broker on a loopback address. */
  loopbackOnly: boolean;
}

/** `-h H -p P` (+ credentials) for mosquitto_sub / mosquitto_pub. */
export function clientArgs(host: string, port: number, authArgs: string): string {
  return `-h ${host} -p ${port}${authArgs ? ` ${authArgs}` : ''}`;
}

/** Quotes a word for a POSIX shell when it needs it. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

export function instructions(i: InstructionsInput): string {
  const args = clientArgs(i.host, i.port, i.authArgs);
  const t = topics(i.baseTopic);
  const lines = [
    '',
    `kasa2mqtt demo: a simulated Kasa cloud with ${i.deviceCount} devices, bridged to MQTT.`,
    '',
    `  Broker     ${i.brokerLine}`,
    `  Cloud      ${i.cloudLine}`,
    `  Data dir   ${i.dataDirLine}`,
    '',
  ];
  if (i.mqtt311Only !== undefined) {
    lines.push(
      `Note: ${i.mqtt311Only}, so the demo runs its in-process broker, which speaks MQTT 3.1.1 only:`,
      'MQTT 5 features (mosquitto_rr, response topics) are not available with it. Install mosquitto',
      '(e.g. apt-get install mosquitto) and start the demo again to have them.',
      '',
    );
  }
  let step = 1;
  lines.push(`${step++}. Watch everything the bridge publishes (in another terminal):`, `     mosquitto_sub ${args} -v -t ${shellQuote(`${i.baseTopic}/#`)}`, '');
  if (i.mfaPending) {
    lines.push(
      `${step++}. The bridge is waiting for the two-step verification code. The real cloud e-mails it;`,
      `   the demo code is ${i.mfaCode}. Send it:`,
      `     mosquitto_pub ${args} -t ${shellQuote(t.bridgeMfa)} -m ${i.mfaCode}`,
      '',
    );
  } else {
    lines.push('   (A stored session was reused, so no two-step verification code is needed this time.)', '');
  }
  lines.push(
    `${step++}. Switch a plug, then dim a bulb:`,
    `     mosquitto_pub ${args} -t ${shellQuote(t.nodeSet(i.plugKey))} -m ON`,
    `     mosquitto_pub ${args} -t ${shellQuote(t.nodeSet(i.lightKey))} -m '{"brightness":40,"color_temp":2700}'`,
    `   Every device's state is on ${i.baseTopic}/<key>, the list of keys on ${t.bridgeDevices}.`,
    '',
    `${step}. Home Assistant: Settings → Devices & services → Add integration → MQTT,`,
    `   broker ${i.host}, port ${i.port}; the demo devices appear under Settings → Devices & services → Devices.`,
  );
  if (i.loopbackOnly) {
    lines.push(
      `   (The demo's broker listens on ${i.host} only. For Home Assistant on another machine or in a`,
      '   container, run a broker it can reach, e.g. mosquitto, and set MQTT_URL to it.)',
    );
  }
  lines.push('', 'Ctrl-C stops the demo.', '');
  return lines.join('\n');
}

export interface DeviceEntry {
  id: string;
  key: string;
  alias?: string;
  model?: string;
  type?: string;
  parent_id?: string;
  online?: boolean;
  supported?: boolean;
}

/** "Logged in: …" and a short table of the keys to use. */
export function loggedIn(devices: DeviceEntry[], tryLine: string): string {
  const top = devices.filter((d) => d.parent_id === undefined);
  const supported = top.filter((d) => d.supported !== false);
  const unsupported = top.filter((d) => d.supported === false);
  const online = supported.filter((d) => d.online === true);
  const notes = [
    supported.length > online.length ? `${supported.length - online.length} offline` : '',
    unsupported.length > 0 ? `${unsupported.length} not supported` : '',
  ].filter(Boolean);
  const lines = [`Logged in: ${online.length} devices online${notes.length ? ` (${notes.join(', ')})` : ''}. Topic keys:`];
  const width = Math.max(...supported.map((d) => d.key.length), 3);
  for (const d of supported) {
    const outlets = devices.filter((o) => o.parent_id === d.id).map((o) => o.key);
    const detail = [d.type ?? '', d.model ?? '', d.online ? '' : 'offline'].filter(Boolean).join(', ');
    const outletText =
      outlets.length === 0 ? '' : outlets.length <= 2 ? `; outlets ${outlets.join(', ')}` : `; outlets ${outlets[0]} … ${outlets.at(-1)}`;
    lines.push(`  ${d.key.padEnd(width)}  ${detail}${outletText}`);
  }
  for (const d of unsupported) {
    lines.push(`  (${d.alias ?? d.id}, ${d.model ?? 'unknown model'}: listed in bridge/devices as not supported, otherwise left alone)`);
  }
  lines.push('', `Try: ${tryLine}`);
  return `${lines.join('\n')}\n`;
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const SKIP = new Set(['level', 'time', 'pid', 'hostname', 'name', 'module', 'msg']);

/**
 * A pino destination that turns each JSON line into `[level] module: message {extras}` on `out`,
 * so the bridge's few log lines sit readably next to the instructions.
 */
export function readableLogStream(
  out: NodeJS.WritableStream,
  hide: (record: Record<string, unknown>) => boolean = () => false,
): DestinationStream {
  return {
    write(line: string): void {
      for (const one of line.split('\n')) {
        if (!one) continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(one) as Record<string, unknown>;
        } catch {
          out.write(`${one}\n`);
          continue;
        }
        if (hide(rec)) continue;
        const level = LEVELS[rec.level as number] ?? String(rec.level);
        const module = typeof rec.module === 'string' ? `${rec.module}: ` : '';
        const extras = Object.fromEntries(Object.entries(rec).filter(([k]) => !SKIP.has(k)));
        const tail = Object.keys(extras).length > 0 ? ` ${JSON.stringify(extras)}` : '';
        const msg = typeof rec.msg === 'string' ? rec.msg : '';
        out.write(`  [${level}] ${module}${msg}${tail}\n`);
      }
    },
  };
}
