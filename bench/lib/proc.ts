/**
 * CPU time and memory of another process, read from /proc (Linux): the benchmark measures the
 * bridge from outside and asks nothing of it.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;

/** Kernel clock ticks per second (USER_HZ, almost always 100). */
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(out.stdout ?? '', 10);
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** User + system CPU time of `pid` so far, ms (resolution 1000 / CLK_TCK ms). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return ((utime + stime) * 1000) / ticksPerSecond();
}

export interface MemorySample {
  /** Resident set size now, MB. */
  rssMb: number;
  /** Peak resident set size so far (VmHWM), MB. */
  peakRssMb: number;
}

export function memory(pid: number): MemorySample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakRssMb: kb('VmHWM') / 1024 };
}

/** Samples RSS of `pid` every `everyMs` until stopped; keeps every sample with its time (performance.now). */
export class RssSampler {
  readonly samples: { at: number; rssMb: number }[] = [];
  readonly #timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 250,
  ) {
    this.#timer = setInterval(() => this.sample(), everyMs);
  }

  sample(): MemorySample | undefined {
    try {
      const m = memory(this.pid);
      this.samples.push({ at: performance.now(), rssMb: m.rssMb });
      return m;
    } catch {
      return undefined; // the process is gone
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  maxBetween(from: number, to: number): number {
    let max = 0;
    for (const s of this.samples) if (s.at >= from && s.at <= to && s.rssMb > max) max = s.rssMb;
    return max;
  }
}
