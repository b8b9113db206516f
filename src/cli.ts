#!/usr/bin/env node
// First: sets V8's memory flags before anything else is loaded.
import './v8HeapFlags.js';
import { AddonStartError, AddonStartStopped, applyAddonEnvironment } from './addon/index.js';
import { ConfigError, loadConfig, maskConfig, type Config } from './config.js';
import { onReaderGone } from './readerGone.js';
import { VERSION } from './version.js';

const USAGE = `kasa2mqtt ${VERSION} — TP-Link Kasa cloud to MQTT bridge

Usage:
  kasa2mqtt                      run the bridge (configuration from the environment and ./.env)
  kasa2mqtt --check-config       validate the configuration, print it with secrets masked (exit 0 or 2)
  kasa2mqtt --version            print the version
  kasa2mqtt --help               this text
  kasa2mqtt login [--trace]      log in from this terminal (reads the MFA code from standard input),
                                 store the session in DATA_DIR and list the devices (exit 0, 1 or 2)
  kasa2mqtt simulator [--port N] [--host H] [--mfa-dialect tapo|kasa|nested|wiki]
                                 serve a simulated Kasa cloud (prints {"url","username","password","mfa_code"})
  kasa2mqtt healthcheck          exit 0 when the running daemon's /healthz answers 200 (needs HEALTH_PORT,
                                 from the environment or ./.env)

Every variable is described in README.md and config.example.env.`;

/** Exit codes: 0 ok, 1 runtime failure, 2 configuration error. */
export const EXIT_CONFIG = 2;

/** As a Home Assistant add-on, the options and the Supervisor's broker become the environment. */
async function applyAddonEnvironmentOrExit(): Promise<void> {
  try {
    await applyAddonEnvironment((line) => process.stderr.write(`kasa2mqtt: ${line}\n`));
  } catch (err) {
    if (err instanceof AddonStartError) {
      process.stderr.write(`kasa2mqtt: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    if (err instanceof AddonStartStopped) process.exit(0);
    throw err;
  }
}

function loadConfigOrExit(): Config {
  try {
    return loadConfig({ onWarning: (message) => process.stderr.write(`kasa2mqtt: warning: ${message}\n`) });
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`kasa2mqtt: ${err.message}\n`);
      process.exit(EXIT_CONFIG);
    }
    throw err;
  }
}

async function main(argv: string[]): Promise<void> {
  const [first, ...rest] = argv;
  switch (first) {
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    case '--version':
    case '-v':
      process.stdout.write(`${VERSION}\n`);
      return;
    case '--check-config': {
      await applyAddonEnvironmentOrExit();
      const config = loadConfigOrExit();
      process.stdout.write(`${JSON.stringify(maskConfig(config), null, 2)}\n`);
      return;
    }
    case 'login': {
      const unknown = rest.filter((a) => a !== '--trace');
      if (unknown.length > 0) {
        process.stderr.write(`kasa2mqtt login: unknown argument ${JSON.stringify(unknown[0])} (usage: kasa2mqtt login [--trace])\n`);
        process.exit(EXIT_CONFIG);
      }
      await applyAddonEnvironmentOrExit();
      const config = loadConfigOrExit();
      const { runLogin } = await import('./login.js');
      process.exitCode = await runLogin(
        config,
        { trace: rest.includes('--trace') },
        { input: process.stdin, output: process.stdout, errors: process.stderr },
      );
      return;
    }
    case 'simulator': {
      const { runSimulatorCli, SimulatorUsageError } = await import('./simulator/cli.js');
      try {
        await runSimulatorCli(rest);
      } catch (err) {
        if (!(err instanceof SimulatorUsageError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exit(EXIT_CONFIG);
      }
      return;
    }
    case 'healthcheck': {
      const { runHealthcheck } = await import('./health/healthcheck.js');
      // An npm install keeps HEALTH_PORT in ./.env, as the daemon reads it; the environment wins.
      const { readDotenv } = await import('./configDotenv.js');
      process.exitCode = await runHealthcheck({ ...readDotenv(true).values, ...process.env });
      return;
    }
    case undefined: {
      await applyAddonEnvironmentOrExit();
      const config = loadConfigOrExit();
      const { runDaemon } = await import('./main.js');
      await runDaemon(config);
      return;
    }
    default:
      process.stderr.write(`kasa2mqtt: unknown argument ${JSON.stringify(first)}\n\n${USAGE}\n`);
      process.exit(EXIT_CONFIG);
  }
}

/**
 * The MQTT libraries log through `debug` when DEBUG names them (`DEBUG=*` does): packet by
 * packet, the CONNECT password included. Their namespaces are always excluded; this runs before
 * they load, which reads DEBUG once.
 */
function excludeMqttDebugLogs(env: NodeJS.ProcessEnv): void {
  if (env.DEBUG) env.DEBUG = `${env.DEBUG},-mqtt*`;
}

excludeMqttDebugLogs(process.env);
// `kasa2mqtt login | head`: once the reader is gone, what is left to print goes nowhere, quietly.
onReaderGone(process.stdout, () => {});
onReaderGone(process.stderr, () => {});
main(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`kasa2mqtt: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
