/**
 * `npm run demo`: the simulated Kasa cloud (a few devices of every family, MFA on), an MQTT broker
 * (the one answering at MQTT_URL, else a mosquitto spawned on that address, else an in-process
 * aedes there) and the real bridge between them, with the next commands to type printed on stdout.
 * Bridge logs go to stderr. It stops on SIGINT/SIGTERM, when its parent process goes away and when
 * nobody reads its output any more (EPIPE), removing what it made.
 *
 * Environment: MQTT_URL (default mqtt://localhost:1883), DEMO_DATA_DIR (default: a fresh temporary
 * directory, so the MFA step happens every time), LOG_LEVEL (default warn), and any other bridge
 * variable (MQTT_BASE_TOPIC, KASA_POLL_INTERVAL, …). The Kasa account and cloud are always the demo's.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { topics, type BridgeAuthPayload } from '../api/types.js';
import { Bridge } from '../bridge/bridge.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { slugKey } from '../devices/topicKeys.js';
import { createLogger } from '../logger.js';
import { onReaderGone } from '../readerGone.js';
import { DemoBrokerError, ensureBroker, type DemoBroker } from './broker.js';
import { watchParent } from './parentWatch.js';
import { clientArgs, instructions, loggedIn, readableLogStream, shellQuote, type DeviceEntry } from './text.js';
import { DEMO_IDENTITY, demoAccount, startSimulator, type Simulator } from '../simulator/index.js';

const USAGE = `Usage: npm run demo   (or: node --import tsx src/demo/index.ts)

Starts a simulated Kasa cloud, an MQTT broker unless one answers at MQTT_URL, and the bridge
between them, then prints what to type next. Ctrl-C stops everything.

  MQTT_URL        broker to use; when none answers there, the demo starts its own on that
                  address: mosquitto when installed, else an in-process MQTT 3.1.1 broker
                  (default mqtt://localhost:1883)
  DEMO_DATA_DIR   keep the session and topic keys here (default: a fresh temporary directory,
                  so the two-step verification is asked every time)
  LOG_LEVEL       bridge log level, logs go to stderr (default warn)`;

/** Whatever hangs at shutdown, the demo is gone this long after the first Ctrl-C. */
const SHUTDOWN_LIMIT_MS = 10_000;
/** Print a hint when the bridge has not reported its login state after this long. */
const SLOW_START_MS = 20_000;
/** After login, wait at most this long for the strips' outlets before printing the device list. */
const DEVICE_LIST_WAIT_MS = 10_000;

/** Variables the demo decides itself; a developer's real ones must not leak in. */
const OWN_VARIABLES = ['KASA_USERNAME', 'KASA_PASSWORD', 'KASA_PASSWORD_FILE', 'KASA_CLOUD_URL', 'KASA_CA_FILE', 'DATA_DIR', 'LOG_LEVEL'];

/** Why the demo stops: a signal, its parent process exited, or nobody reads its output. */
type StopReason = NodeJS.Signals | 'parent gone' | 'output closed';

const STOPPING: Partial<Record<StopReason, string>> = {
  SIGINT: 'Ctrl-C: stopping the demo…',
  'parent gone': 'The process that started the demo has exited: stopping the demo…',
  'output closed': 'Nobody reads the demo\'s output any more: stopping the demo…',
};

export interface DemoIo {
  env?: NodeJS.ProcessEnv;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
}

/** Runs the demo until SIGINT/SIGTERM; resolves with the exit code (0 after a clean stop). */
export async function runDemo(argv: string[], io: DemoIo = {}): Promise<number> {
  const env = io.env ?? process.env;
  const out = io.stdout ?? process.stdout;
  const err = io.stderr ?? process.stderr;
  let outGone = false;
  let errGone = false;
  const say = (text: string) => void (outGone || out.write(text.endsWith('\n') ? text : `${text}\n`));
  const complain = (text: string) => void (errGone || err.write(`kasa2mqtt demo: ${text}\n`));

  if (argv.includes('--help') || argv.includes('-h')) {
    say(USAGE);
    return 0;
  }
  if (argv.length > 0) {
    complain(`unknown argument ${JSON.stringify(argv[0])}\n\n${USAGE}`);
    return 2;
  }

  const cleanups: (() => Promise<void> | void)[] = [];
  const cleanUp = async () => {
    for (const step of cleanups.reverse()) {
      try {
        await step();
      } catch (e) {
        complain(`while stopping: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    cleanups.length = 0;
  };

  // Signals first: a Ctrl-C during start-up still stops cleanly; a second one exits at once.
  let stopRequested: (reason: StopReason) => void = () => {};
  const stopSignal = new Promise<StopReason>((r) => (stopRequested = r));
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      complain('second signal, exiting at once');
      process.exit(130);
    }
    stopRequested(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const stopWatchingParent = watchParent(() => stopRequested('parent gone'));
  cleanups.push(() => {
    stopWatchingParent();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  });
  // `npm run demo | tee log` and Ctrl-C: tee is gone before the demo writes its goodbye.
  onReaderGone(out, () => {
    outGone = true;
    stopRequested('output closed');
  });
  onReaderGone(err, () => {
    errGone = true;
    stopRequested('output closed');
  });

  try {
    const started = await start(env, say, complain, err, cleanups, stopSignal);
    if (started !== 0) {
      await cleanUp();
      return started;
    }
    const reason = await stopSignal;
    say(`\n${STOPPING[reason] ?? `${reason}: stopping the demo…`}`);
    const limit = setTimeout(() => {
      complain('stopping took too long; exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS);
    limit.unref();
    await cleanUp();
    clearTimeout(limit);
    say('Stopped. Bye!');
    return 0;
  } catch (e) {
    complain(e instanceof Error ? e.message : String(e));
    await cleanUp();
    return 1;
  }
}

/** Starts everything; 0 when running, else the exit code (2 for configuration problems). */
async function start(
  env: NodeJS.ProcessEnv,
  say: (text: string) => void,
  complain: (text: string) => void,
  err: NodeJS.WritableStream,
  cleanups: (() => Promise<void> | void)[],
  stopSignal: Promise<StopReason>,
): Promise<number> {
  let stopping = false;
  void stopSignal.then(() => (stopping = true));

  const keepDataDir = env.DEMO_DATA_DIR !== undefined && env.DEMO_DATA_DIR !== '';
  const dataDir = keepDataDir ? resolve(env.DEMO_DATA_DIR!) : mkdtempSync(join(tmpdir(), 'kasa2mqtt-demo-'));
  if (keepDataDir) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  } else {
    // Also when the demo exits without its clean-up (a second Ctrl-C, the shutdown time limit).
    const removeDataDir = () => rmSync(dataDir, { recursive: true, force: true });
    process.once('exit', removeDataDir);
    cleanups.push(() => {
      process.off('exit', removeDataDir);
      removeDataDir();
    });
  }

  const account = demoAccount();
  const sim: Simulator = await startSimulator({ accounts: [account] });
  cleanups.push(() => sim.stop());

  const bridgeEnv: NodeJS.ProcessEnv = { ...env };
  for (const name of OWN_VARIABLES) delete bridgeEnv[name];
  let config: Config;
  try {
    config = loadConfig({
      env: {
        ...bridgeEnv,
        KASA_USERNAME: DEMO_IDENTITY.username,
        KASA_PASSWORD: DEMO_IDENTITY.password,
        KASA_CLOUD_URL: sim.url,
        DATA_DIR: dataDir,
        LOG_LEVEL: env.LOG_LEVEL || 'warn',
      },
      dotenv: false,
    });
  } catch (e) {
    if (e instanceof ConfigError) {
      complain(e.message);
      return 2;
    }
    throw e;
  }
  const base = config.MQTT_BASE_TOPIC;
  const creds = {
    ...(config.MQTT_USERNAME !== undefined ? { username: config.MQTT_USERNAME } : {}),
    ...(config.MQTT_PASSWORD !== undefined ? { password: config.MQTT_PASSWORD } : {}),
  };

  let broker: DemoBroker;
  try {
    broker = await ensureBroker(config.MQTT_URL, base, creds);
  } catch (e) {
    if (e instanceof DemoBrokerError) {
      complain(e.message);
      return 2;
    }
    throw e;
  }
  const started = broker.started;
  if (started) cleanups.push(() => started.stop());
  if (broker.bridgeOnline) {
    complain(
      `a kasa2mqtt bridge is online on ${config.MQTT_URL} under the base topic "${base}"; the demo will not ` +
        `take over its topics. Run it with another base topic, e.g. MQTT_BASE_TOPIC=${base}_demo npm run demo`,
    );
    return 2;
  }
  if (stopping) return 0;

  // A plain MQTT 3.1.1 client watches the bridge's public topics, the same way a user would.
  const watcher = mqtt.connect(broker.url, {
    protocolVersion: 4,
    clientId: `kasa2mqtt_demo_watch_${randomBytes(4).toString('hex')}`,
    clean: true,
    reconnectPeriod: 1000,
    ...creds,
  });
  watcher.on('error', () => {});
  cleanups.push(() => watcher.endAsync(true).catch(() => {}));
  await new Promise<void>((ok, fail) => {
    watcher.once('connect', () => ok());
    watcher.once('error', fail);
  });
  const t = topics(base);
  const topic = { auth: t.bridgeAuth, devices: t.bridgeDevices, state: t.bridgeState };
  await watcher.subscribeAsync([topic.auth, topic.devices, topic.state], { qos: 1 });

  const host = broker.host;
  const authArgs = [
    config.MQTT_USERNAME !== undefined ? `-u ${shellQuote(config.MQTT_USERNAME)}` : '',
    config.MQTT_PASSWORD !== undefined ? '-P "$MQTT_PASSWORD"' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const pub = `mosquitto_pub ${clientArgs(host, broker.port, authArgs)}`;
  const devices = account.devices ?? [];
  const plug = devices.find((d) => /^HS10[35]/.test(d.model) && d.online !== false) ?? devices[0];
  const light = devices.find((d) => d.model.startsWith('KL130')) ?? devices.find((d) => d.model.startsWith('KL'));
  const plugKey = plug ? slugKey(plug.alias, plug.deviceId ?? '') : 'bedroom_desk_light';
  const lightKey = light ? slugKey(light.alias, light.deviceId ?? '') : 'living_room_lamp';
  const printInstructions = (mfaPending: boolean) =>
    say(
      instructions({
        host,
        port: broker.port,
        authArgs,
        baseTopic: base,
        mfaCode: DEMO_IDENTITY.mfaCode,
        mfaPending,
        plugKey,
        lightKey,
        brokerLine: started
          ? `mqtt://${host}:${broker.port}, started by the demo (${started.kind === 'aedes' ? 'aedes, MQTT 3.1.1' : 'mosquitto'}; stops with the demo)`
          : `${config.MQTT_URL}, already running`,
        mqtt311Only: started?.kind === 'aedes' ? started.whyNotMosquitto : undefined,
        cloudLine: `simulator at ${sim.url}, account ${DEMO_IDENTITY.username} / ${DEMO_IDENTITY.password}`,
        dataDirLine: keepDataDir ? `${dataDir} (DEMO_DATA_DIR, kept)` : `${dataDir} (fresh, removed on exit)`,
        deviceCount: devices.length,
        loopbackOnly: started !== undefined && (host === '127.0.0.1' || host === '::1'),
      }),
    );

  // What the bridge reports on its public topics, turned into a few friendly lines.
  let printed = false;
  let authenticated = false;
  let listPrinted = false;
  let latestDevices: DeviceEntry[] = [];
  let listTimer: NodeJS.Timeout | undefined;
  let offlineSeen: () => void = () => {};
  const offline = new Promise<void>((r) => (offlineSeen = r));
  const printList = () => {
    if (listPrinted) return;
    listPrinted = true;
    clearTimeout(listTimer);
    say(loggedIn(latestDevices, `${pub} -t ${shellQuote(t.nodeSet(plugKey))} -m TOGGLE`));
  };
  const onAuth = (auth: BridgeAuthPayload) => {
    if (!printed && (auth.state === 'mfa_required' || auth.state === 'authenticated')) {
      printed = true;
      printInstructions(auth.state === 'mfa_required');
    }
    if (auth.state === 'mfa_required' && auth.last_error === 'code_invalid') {
      say(`That code was refused (${auth.attempts_left ?? 0} attempts left). The demo code is ${DEMO_IDENTITY.mfaCode}.`);
    } else if (auth.state === 'mfa_required' && auth.last_error === 'retained_rejected') {
      say('A retained code (mosquitto_pub -r) is refused on purpose: send the code again without -r.');
    } else if (auth.state === 'mfa_required' && auth.last_error) {
      say(`The code could not be checked (${auth.last_error}); send it again.`);
    } else if (auth.state === 'authenticated' && !authenticated) {
      authenticated = true;
      say(`Code accepted: the bridge is logged in. Reading the devices (at most ${config.KASA_RATE_LIMIT} cloud requests a minute)…`);
    } else if (auth.state === 'error') {
      authenticated = false;
      say(
        `Login stopped (${auth.last_error ?? 'error'}). Start a new round with:\n` +
          `     ${pub} -t ${shellQuote(t.bridgeRequest('auth/login'))} -m '{}'`,
      );
    }
  };
  const onDevices = (list: DeviceEntry[]) => {
    if (!authenticated || listPrinted || list.length === 0) return;
    latestDevices = list;
    listTimer ??= setTimeout(printList, DEVICE_LIST_WAIT_MS);
    // Ready once every online strip lists its outlets (they come from the strip's first read).
    const strips = list.filter((d) => d.type === 'strip' && d.online === true && d.parent_id === undefined);
    if (strips.every((s) => list.some((o) => o.parent_id === s.id))) printList();
  };
  watcher.on('message', (t, payload, packet) => {
    if (packet.retain) return; // left over from an earlier run, not this bridge's
    try {
      if (t === topic.auth) onAuth(JSON.parse(payload.toString('utf8')) as BridgeAuthPayload);
      else if (t === topic.devices) onDevices(JSON.parse(payload.toString('utf8')) as DeviceEntry[]);
      else if (t === topic.state && payload.toString('utf8').includes('"offline"')) offlineSeen();
    } catch {
      // not JSON: nothing to report
    }
  });
  const slow = setTimeout(() => {
    if (!printed) complain(`the bridge has not reported its login state after ${SLOW_START_MS / 1000} s; run with LOG_LEVEL=info to see why`);
  }, SLOW_START_MS);
  slow.unref();
  cleanups.push(() => {
    clearTimeout(slow);
    clearTimeout(listTimer);
  });

  // Noise for a newcomer: the fallback warning when the demo's own aedes (3.1.1 only, and the broker
  // line says so) refuses MQTT 5, and reads cut short by Ctrl-C.
  const hide = (rec: Record<string, unknown>) => {
    const msg = typeof rec.msg === 'string' ? rec.msg : '';
    if (started?.kind === 'aedes' && msg.startsWith('MQTT broker refused protocol 5')) return true;
    return stopping && JSON.stringify(rec.err ?? '').includes('SchedulerStoppedError');
  };
  const logger = createLogger({ level: config.LOG_LEVEL, destination: readableLogStream(err, hide) });
  const bridge = new Bridge({ config: { ...config, MQTT_URL: broker.url }, logger });
  cleanups.push(async () => {
    await bridge.stop();
    // The broker has passed `offline` on once our own watcher has it; only then stop the broker.
    await Promise.race([offline, new Promise((r) => setTimeout(r, 1000).unref())]);
    say(`Bridge stopped (${t.bridgeState} is offline).`);
  });
  await bridge.start();
  return 0;
}

function isMain(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return realpathSync(resolve(entry)) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isMain()) {
  runDemo(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`kasa2mqtt demo: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
