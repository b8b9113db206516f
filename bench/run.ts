/**
 * `npm run bench` (and `npm run bench:quick`): runs the built bridge (dist/cli.js) as a child
 * process against the in-process cloud simulator and a spawned mosquitto, measures it from the
 * outside (an MQTT client, the simulator's request log, /proc of the child), prints a table and
 * writes bench/results.json.
 *
 *   node --import tsx bench/run.ts [--quick] [--only poll,command,burst,startup] [--devices 20,1000]
 *
 * Exit code 1 when a scenario fails to run or the rate limit is exceeded; a missed performance
 * target is reported in the table (MISSED) but does not fail the run unless --strict is given.
 */
import { writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchNodeArgs, ROOT } from './lib/bridgeProcess.js';
import { table, type Figure } from './lib/stats.js';
import { burst } from './scenarios/burst.js';
import { commandPath } from './scenarios/commandPath.js';
import { pollEconomy } from './scenarios/pollEconomy.js';
import { startup } from './scenarios/startup.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    /** Poll-economy sizes to run, e.g. `--devices 20,1000` (default: all of the mode's sizes). */
    devices: { type: 'string' },
    strict: { type: 'boolean', default: false },
    out: { type: 'string', default: join(ROOT, 'bench', 'results.json') },
  },
});
const quick = values.quick;
const only = values.only ? new Set(values.only.split(',')) : undefined;
const wanted = (name: string) => !only || only.has(name);

interface ScenarioRun {
  name: string;
  run: () => Promise<{ figures: Figure[]; details: Record<string, unknown>; hardFailure?: string }>;
}

const scenarios: ScenarioRun[] = [];
const pollSizes: { devices: number; intervalS: number; cycles: number }[] = quick
  ? [
      { devices: 1, intervalS: 0.5, cycles: 4 },
      { devices: 100, intervalS: 1, cycles: 3 },
    ]
  : [
      { devices: 1, intervalS: 1, cycles: 10 },
      { devices: 20, intervalS: 1, cycles: 10 },
      { devices: 100, intervalS: 2, cycles: 5 },
      { devices: 1000, intervalS: 5, cycles: 4 },
    ];
const sizesWanted = values.devices ? new Set(values.devices.split(',').map(Number)) : undefined;
for (const size of pollSizes.filter((s) => !sizesWanted || sizesWanted.has(s.devices))) scenarios.push({ name: 'poll', run: () => pollEconomy(size) });
scenarios.push({ name: 'command', run: () => commandPath({ iterations: quick ? 200 : 1000, warmup: quick ? 30 : 100 }) });
scenarios.push({
  name: 'burst',
  run: () => burst(quick ? { ratePerMinute: 600, burst: 20 } : { ratePerMinute: 120, burst: 20 }),
});
scenarios.push({
  name: 'startup',
  run: () => startup(quick ? { devices: 20, ratePerMinute: 600, burst: 5 } : { devices: 100, ratePerMinute: 600, burst: 20 }),
});

function machine(): Record<string, unknown> {
  const cpu = cpus();
  return {
    cpu: cpu[0]?.model ?? 'unknown',
    cores: cpu.length,
    memoryGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    freeMemoryGb: Math.round((freemem() / 2 ** 30) * 10) / 10,
    node: process.version,
    /** The bridge's node flags: none, as users start it, unless BENCH_NODE_ARGS adds some. */
    nodeArgs: benchNodeArgs().join(' '),
    os: `${platform()} ${release()}`,
    /** Other load on the machine when the run started (1, 5, 15 min). */
    loadAverage: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

async function main(): Promise<number> {
  const started = Date.now();
  const figures: Figure[] = [];
  const details: Record<string, unknown>[] = [];
  const failures: string[] = [];
  for (const scenario of scenarios) {
    if (!wanted(scenario.name)) continue;
    const t = performance.now();
    process.stderr.write(`bench: ${scenario.name}…\n`);
    try {
      const result = await scenario.run();
      figures.push(...result.figures);
      details.push({ scenario: scenario.name, ...result.details });
      if (result.hardFailure) failures.push(result.hardFailure);
      process.stderr.write(`bench: ${scenario.name} done in ${((performance.now() - t) / 1000).toFixed(1)} s\n`);
    } catch (err) {
      failures.push(`${scenario.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.stderr.write(`bench: ${scenario.name} FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
  const results = {
    date: new Date(started).toISOString(),
    durationS: Math.round((Date.now() - started) / 1000),
    mode: quick ? 'quick' : 'full',
    machine: machine(),
    figures,
    details,
    failures,
  };
  writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`\n${table(figures)}\n\n`);
  for (const f of figures.filter((x) => x.note)) process.stdout.write(`note: ${f.scenario} / ${f.figure}: ${f.note}\n`);
  process.stdout.write(`machine: ${JSON.stringify(results.machine)}\n`);
  process.stdout.write(`results written to ${values.out} (${results.durationS} s)\n`);
  const missed = figures.filter((f) => f.ok === false);
  if (failures.length > 0) {
    process.stdout.write(`\nFAILED:\n${failures.map((f) => `  - ${f}`).join('\n')}\n`);
    return 1;
  }
  if (values.strict && missed.length > 0) return 1;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
