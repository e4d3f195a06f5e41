/*
 * Handler cost: classify per image in-process with stubbed clients, in fresh child processes (--expose-gc for
 * exact heap readings; stdout discarded so the production logs and EMF lines are written but not shown).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fixed, kb, PROJECT_DIR } from './common.js';
import type { Distribution, SummaryLine } from './common.js';

export interface HandlerRun {
  readonly mode: 'stub' | 'sdk';
  readonly reuseSingleMetric: boolean;
  readonly records: number;
  readonly warmUpRecords: number;
  readonly perRecordMicros: Distribution;
  readonly recordsPerSecond: number;
  readonly heap: {
    readonly afterWarmUpBytes: number;
    readonly afterAllBytes: number;
    readonly growthBytes: number;
    readonly growthBytesPerRecord: number;
    readonly samples: readonly { readonly records: number; readonly heapUsed: number }[];
  };
  readonly rssBytes: number;
  readonly heapSlopeSecondHalfBytesPerRecord?: number;
}

export interface HandlerResult {
  readonly settings: Record<string, unknown>;
  readonly runs: readonly HandlerRun[];
  readonly summary: readonly Omit<SummaryLine, 'part'>[];
  readonly notes: readonly string[];
}

/**
 * "No leak": the heap after GC stops growing once warm. Judged on the least-squares slope of the second half of
 * the samples (the first tenths still include JIT and lazily built SDK/Powertools state); a retained object per
 * record would show as tens or hundreds of bytes per record there.
 */
const LEAK_BUDGET_BYTES_PER_RECORD = 1;

export function slopeOfSecondHalf(samples: readonly { readonly records: number; readonly heapUsed: number }[]): number {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 2) return 0;
  const mx = half.reduce((a, s) => a + s.records, 0) / half.length;
  const my = half.reduce((a, s) => a + s.heapUsed, 0) / half.length;
  const sxy = half.reduce((a, s) => a + (s.records - mx) * (s.heapUsed - my), 0);
  const sxx = half.reduce((a, s) => a + (s.records - mx) ** 2, 0);
  return Math.round((sxy / sxx) * 1000) / 1000;
}

function runChild(mode: 'stub' | 'sdk', records: number, reuseSingleMetric: boolean): Promise<HandlerRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(PROJECT_DIR, 'bench/handler-child.ts')], {
      cwd: PROJECT_DIR,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: {
        ...process.env,
        BENCH_MODE: mode,
        BENCH_RECORDS: String(records),
        BENCH_REUSE_SINGLE_METRIC: reuseSingleMetric ? '1' : '0',
        AWS_REGION: 'eu-west-1',
        // The classify function's environment in serverless.yml (logs at INFO, EMF metrics on).
        POWERTOOLS_SERVICE_NAME: 'classify',
        POWERTOOLS_METRICS_NAMESPACE: 'Pneumo',
        POWERTOOLS_LOG_LEVEL: 'INFO',
        POWERTOOLS_METRICS_DISABLED: 'false',
        POWERTOOLS_DEV: '',
      },
    });
    let stderr = '';
    let result: HandlerRun | undefined;
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('message', (message) => (result = message as HandlerRun));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0 && result) resolve(result);
      else reject(new Error(`handler child (${mode}) exited ${String(code)}: ${stderr.split('\n').filter((l) => !/NodeVersionSupportWarning|^$/.test(l)).slice(-6).join(' | ')}`));
    });
  });
}

function label(run: HandlerRun): string {
  return `${run.mode === 'stub' ? 'stubbed send()' : 'real SDK, canned HTTP'}${run.reuseSingleMetric ? ' + reused singleMetric' : ''}`;
}

export async function runHandlerBench(options: { records: number; log: (line: string) => void }): Promise<HandlerResult> {
  const runs: HandlerRun[] = [];
  const variants = [
    { mode: 'stub', reuse: false },
    { mode: 'sdk', reuse: false },
    { mode: 'stub', reuse: true },
  ] as const;
  for (const { mode, reuse } of variants) {
    const run = await runChild(mode, options.records, reuse);
    runs.push(run);
    const us = run.perRecordMicros;
    options.log(
      `  ${label(run)}: ${run.records} records, p50 ${fixed(us.p50)} µs, p99 ${fixed(us.p99)} µs, ${run.recordsPerSecond}/s; heap after warm-up ${kb(run.heap.afterWarmUpBytes)} KB → after all ${kb(run.heap.afterAllBytes)} KB (${run.heap.growthBytes >= 0 ? '+' : ''}${kb(run.heap.growthBytes)} KB)`,
    );
  }
  const slopes = runs.map((run) => slopeOfSecondHalf(run.heap.samples));
  const summary = runs.flatMap((run, i) => [
    { figure: `per record, ${label(run)}`, value: `p50 ${fixed(run.perRecordMicros.p50)} µs, p99 ${fixed(run.perRecordMicros.p99)} µs` },
    {
      figure: `heap after GC, ${label(run)}: warm-up → ${run.records.toLocaleString('en')} records`,
      value: `${kb(run.heap.afterWarmUpBytes)} → ${kb(run.heap.afterAllBytes)} KB; slope of the 2nd half ${String(slopes[i])} B/record`,
      goal: `no leak (< ${LEAK_BUDGET_BYTES_PER_RECORD} B/record)`,
      met: (slopes[i] ?? Infinity) < LEAK_BUDGET_BYTES_PER_RECORD,
    },
  ]);
  return {
    settings: {
      invocation: 'one S3 record per invocation (as S3 sends them): classifyS3Event, then metrics.publishStoredMetrics() as the handler does',
      outcome: 'every record CLASSIFIED and written (full path: GetItem, HEAD, ranged GET, registry GetItem cached 30 s, DetectCustomLabels, PutItem)',
      logs: 'production settings (INFO logs, EMF metrics) written to a discarded stdout',
      leakBudgetBytesPerRecord: LEAK_BUDGET_BYTES_PER_RECORD,
    },
    runs: runs.map((run, i) => ({ ...run, heapSlopeSecondHalfBytesPerRecord: slopes[i] })),
    summary,
    notes: [
      'stub: `send` of each client is a hand stub returning a fixed answer (no SDK middleware); measures classify, logging and metrics.',
      'sdk: the real S3, DynamoDB (document client) and Rekognition clients with a request handler that returns canned HTTP responses: adds serialisation, middleware, SigV4 signing and parsing; no sockets.',
      '"+ reused singleMetric" patches metrics.singleMetric() in the child to return one instance created once, emulating the proposed change to src/lib/observability.ts (Powertools Metrics#singleMetric() builds a new Metrics with a new node:console Console on every call outside dev mode; building it is CPU work per outcome).',
      'Each invocation runs in its own event-loop turn (setImmediate between records, outside the timing), as separate Lambda invocations do. Heap is read after two forced GCs (--expose-gc) after the warm-up and every tenth of the run; growth per record near zero means nothing is retained per image.',
    ],
  };
}
