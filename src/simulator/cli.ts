import { DEMO_IDENTITY, demoAccount } from './catalog.js';
import { startSimulator } from './index.js';
import { MFA_DIALECTS, type MfaDialect } from './types.js';

const USAGE = `kasa2mqtt simulator [--port N] [--host H] [--mfa-dialect ${MFA_DIALECTS.join('|')}]`;

/** A bad command line (the CLI exits 2 with this message, as for every usage error). */
export class SimulatorUsageError extends Error {
  override name = 'SimulatorUsageError';
}

interface CliArgs {
  port: number;
  host: string;
  mfaDialect: MfaDialect;
}

function parseArgs(argv: string[]): CliArgs {
  const args: CliArgs = { port: 0, host: '127.0.0.1', mfaDialect: 'tapo' };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || v === '') throw new SimulatorUsageError(`kasa2mqtt simulator: ${flag} needs a value`);
      return v;
    };
    if (flag === '--port') {
      const port = Number(value());
      if (!Number.isInteger(port) || port < 0 || port > 65532) throw new SimulatorUsageError('kasa2mqtt simulator: --port must be 0–65532');
      args.port = port;
    } else if (flag === '--host') {
      args.host = value();
    } else if (flag === '--mfa-dialect') {
      const dialect = value();
      if (!(MFA_DIALECTS as readonly string[]).includes(dialect)) {
        throw new SimulatorUsageError(`kasa2mqtt simulator: --mfa-dialect must be one of ${MFA_DIALECTS.join(', ')}`);
      }
      args.mfaDialect = dialect as MfaDialect;
    } else {
      throw new SimulatorUsageError(`kasa2mqtt simulator: unknown argument ${JSON.stringify(arg)} (usage: ${USAGE})`);
    }
  }
  return args;
}

/**
 * `kasa2mqtt simulator [--port N] [--host H] [--mfa-dialect D]`: serves the demo account (MFA on,
 * answered in dialect D, see types.ts `MfaDialect`) and prints one JSON
 * line `{"url","username","password","mfa_code"}`. With --port N the regional and device hosts use
 * N+1..N+3 (handy for publishing container ports); without it every listener takes a free port.
 */
export async function runSimulatorCli(argv: string[]): Promise<void> {
  const { port, host, mfaDialect } = parseArgs(argv);
  const sim = await startSimulator({
    host,
    port,
    mfaDialect,
    ...(port !== 0 ? { ports: { regional: port + 1, device0: port + 2, device1: port + 3 } } : {}),
    accounts: [demoAccount()],
  });
  process.stdout.write(
    `${JSON.stringify({
      url: sim.url,
      username: DEMO_IDENTITY.username,
      password: DEMO_IDENTITY.password,
      mfa_code: DEMO_IDENTITY.mfaCode,
    })}\n`,
  );
  await new Promise<void>((resolve) => {
    const onSignal = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await sim.stop();
}
