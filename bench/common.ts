import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS_DIR = join(PROJECT_DIR, 'bench', 'results');

/** What every result file says about where and when it was measured. */
export interface Machine {
  readonly date: string;
  readonly node: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly loadAverage1m: number;
  readonly command: string;
}

export function machine(): Machine {
  return {
    date: new Date().toISOString(),
    node: process.version,
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    loadAverage1m: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    command: `npx tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

export interface Distribution {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentiles of a sample (any unit); rounded to 3 decimals. */
export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const rank = (q: number): number => sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] ?? Number.NaN;
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  return {
    n,
    min: r(sorted[0] ?? Number.NaN),
    p50: r(rank(0.5)),
    p95: r(rank(0.95)),
    p99: r(rank(0.99)),
    max: r(sorted[n - 1] ?? Number.NaN),
    mean: r(sorted.reduce((a, b) => a + b, 0) / Math.max(1, n)),
  };
}

export function median(values: readonly number[]): number {
  return distribution(values).p50;
}

/** Runs `work` over `items` with at most `width` at a time, keeping order. */
export async function pool<T, R>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T, i);
      }
    }),
  );
  return out;
}

export async function writeResult(part: string, result: object): Promise<string> {
  const file = join(RESULTS_DIR, `${part}.json`);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(file, `${JSON.stringify({ part, machine: machine(), ...result }, null, 2)}\n`);
  return file;
}

/** One summary line per figure: part, figure, value, goal, verdict. */
export interface SummaryLine {
  readonly part: string;
  readonly figure: string;
  readonly value: string;
  readonly goal?: string;
  readonly met?: boolean;
}

export function printSummary(lines: readonly SummaryLine[]): void {
  const rows = lines.map((l) => [l.part, l.figure, l.value, l.goal ?? '', l.met === undefined ? '' : l.met ? 'met' : 'MISSED']);
  const header = ['part', 'figure', 'value', 'goal', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  console.log(format(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of rows) console.log(format(row));
}

export const kb = (bytes: number): number => Math.round(bytes / 102.4) / 10;
export const fixed = (x: number, digits = 1): string => x.toFixed(digits);
