import { Bridge } from './bridge/bridge.js';
import { DataDirBusyError } from './dataDirLock.js';
import { SessionStoreError } from './kasa/sessionStore.js';
import type { Config } from './config.js';
import { createLogger } from './logger.js';
import { urlForDisplay } from './urlForDisplay.js';
import { VERSION } from './version.js';

/** Exit code for an unusable DATA_DIR, the same as for other configuration errors. */
const EXIT_DATA_DIR = 2;

/** Bounded shutdown: whatever hangs, the process is gone this long after the first signal. */
const SHUTDOWN_LIMIT_MS = 5_000;

/** Runs the daemon until SIGTERM/SIGINT: build the parts, start them, stop them in order on a signal. */
export async function runDaemon(config: Config): Promise<void> {
  const logger = createLogger({ level: config.LOG_LEVEL });
  logger.info({ version: VERSION, mqtt: urlForDisplay(config.MQTT_URL), cloud: urlForDisplay(config.KASA_CLOUD_URL) }, 'kasa2mqtt starting');
  let bridge: Bridge;
  try {
    bridge = new Bridge({ config, logger });
  } catch (err) {
    // An unusable or busy DATA_DIR is a configuration problem: say so and exit before connecting anything.
    if (err instanceof SessionStoreError) logger.fatal({ path: err.path }, err.message);
    else if (err instanceof DataDirBusyError) logger.fatal(err.message);
    else throw err;
    logger.flush();
    process.stderr.write(`kasa2mqtt: ${err.message}\n`);
    process.exit(EXIT_DATA_DIR);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting at once');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error('shutdown took too long: exiting');
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    bridge
      .stop()
      .then(() => {
        logger.info('stopped');
        logger.flush();
        process.exit(0);
      })
      .catch((err: unknown) => {
        logger.error({ err }, 'error while stopping');
        process.exit(1);
      });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);

  // A start failure is a crash: the DATA_DIR lock is released on the way out (its exit handler).
  await bridge.start();
}
