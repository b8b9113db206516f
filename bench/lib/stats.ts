/** Small statistics and formatting helpers for the benchmark. */

/** Nearest-rank percentile (p in 0..100) of unsorted values; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function round(value: number, digits = 2): number {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The fullest half-open window of `windowMs`: its count and the first and last timestamps in it. */
export function worstWindow(times: readonly number[], windowMs: number): { count: number; from: number; to: number } {
  const sorted = [...times].sort((a, b) => a - b);
  let best = { count: 0, from: NaN, to: NaN };
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    while (sorted[hi]! - sorted[lo]! >= windowMs) lo++;
    if (hi - lo + 1 > best.count) best = { count: hi - lo + 1, from: sorted[lo]!, to: sorted[hi]! };
  }
  return best;
}

/** One row of the results table. */
export interface Figure {
  scenario: string;
  figure: string;
  value: number;
  unit: string;
  /** Human-readable target, e.g. "< 5". */
  target?: string;
  /** Whether the target is met (undefined: no target). */
  ok?: boolean;
  note?: string;
}

export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** A plain-text (and Markdown-compatible) table of the figures. */
export function table(figures: readonly Figure[]): string {
  const rows = figures.map((f) => [
    f.scenario,
    f.figure,
    `${fmt(f.value)}${f.unit ? ` ${f.unit}` : ''}`,
    f.target ?? '',
    f.ok === undefined ? '' : f.ok ? 'ok' : 'MISSED',
  ]);
  const head = ['Scenario', 'Figure', 'Value', 'Target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
