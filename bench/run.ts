/*
 * npm run bench  (= npx tsx bench/run.ts)   [--only pipeline|handler|coldstart|model|cost] [--quick]
 *                                           [--price-per-unit-hour 4] [--data DIR] [--runs 21]
 *                                           [--start-latency-minutes 10]
 * Each part writes bench/results/<part>.json (machine, node, date, figures) and the run ends with a summary table.
 * Not part of `npm test`: parts take seconds to minutes and their figures depend on the machine.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageTemplate } from '../src/local/template.js';
import type { CfnTemplate } from '../src/local/template.js';
import { fixed, printSummary, PROJECT_DIR, writeResult } from './common.js';
import type { SummaryLine } from './common.js';
import { estimateMonthlyCost, scheduleFromTemplate } from '../src/lib/cost.js';
import { loadServingPolicy } from '../src/lib/serving/config.js';
import { costSummary, runCostSimulation, servingFromTemplate } from './cost.js';

const PARTS = ['pipeline', 'handler', 'coldstart', 'model', 'cli-training', 'cost'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `npx tsx bench/run.ts [--only ${PARTS.join('|')}] [--quick] [--price-per-unit-hour USD] [--data DIR] [--runs N]

  --only P               run one part (repeatable: --only pipeline --only cost)
  --quick                a smoke run: fewer images, records and runs, a subset of the model data
  --price-per-unit-hour  Rekognition Custom Labels inference price (default 4 USD)
  --data DIR             chest-xray training split for the model and cli-training parts (default /work/shared/data/chest-xray/train or DATA_DIR)
  --runs N               fresh-process imports per bundle in the cold-start part (default 31, quick 5)
  --start-latency-minutes  how long Rekognition takes to start a model, in the cost simulation (default 10)`;

const { values } = parseArgs({
  options: {
    only: { type: 'string', multiple: true },
    quick: { type: 'boolean', default: false },
    'price-per-unit-hour': { type: 'string', default: '4' },
    data: { type: 'string', default: process.env.DATA_DIR ?? '/work/shared/data/chest-xray/train' },
    runs: { type: 'string' },
    'start-latency-minutes': { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
  strict: true,
});

function selectedParts(): Part[] {
  const only = values.only ?? [];
  for (const part of only) if (!(PARTS as readonly string[]).includes(part)) throw new Error(`--only ${part}: expected one of ${PARTS.join(', ')}`);
  return only.length > 0 ? PARTS.filter((p) => only.includes(p)) : [...PARTS];
}

/** One offline `osls package --stage ci` for the parts that need the template or the bundles. */
async function packaged(): Promise<{ template: CfnTemplate; outDir: string }> {
  const outDir = await mkdtemp(join(tmpdir(), 'pneumo-bench-package-'));
  const started = performance.now();
  const result = await packageTemplate({ projectDir: PROJECT_DIR, stage: 'ci', region: 'eu-west-1', outDir });
  console.log(`packaged the stack (osls package --stage ci) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return result;
}

async function main(): Promise<number> {
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const parts = selectedParts();
  const quick = values.quick;
  const price = Number(values['price-per-unit-hour']);
  if (!Number.isFinite(price) || price < 0) throw new Error('--price-per-unit-hour must be a number ≥ 0');
  const summary: SummaryLine[] = [];
  const log = (line: string): void => {
    console.log(line);
  };
  const needsPackage = parts.some((p) => p === 'pipeline' || p === 'coldstart' || p === 'cost');
  const pkg = needsPackage ? await packaged() : undefined;
  let failed = false;
  try {
    for (const part of parts) {
      console.log(`\n== ${part}${quick ? ' (quick)' : ''}`);
      const started = performance.now();
      try {
        const lines = await runPart(part, { quick, price, pkg, log });
        summary.push(...lines);
      } catch (error) {
        failed = true;
        console.error(`${part} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        summary.push({ part, figure: 'error', value: error instanceof Error ? error.message.slice(0, 80) : String(error) });
      }
      console.log(`   (${part}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
    }
  } finally {
    if (pkg) await rm(pkg.outDir, { recursive: true, force: true });
  }
  console.log('\nSummary (one run; figures are ratios or distributions, see bench/results/*.json)\n');
  printSummary(summary);
  return failed ? 1 : 0;
}

interface PartContext {
  readonly quick: boolean;
  readonly price: number;
  readonly pkg: { template: CfnTemplate; outDir: string } | undefined;
  readonly log: (line: string) => void;
}

async function runPart(part: Part, context: PartContext): Promise<SummaryLine[]> {
  const { quick, log } = context;
  const template = (): CfnTemplate => {
    if (!context.pkg) throw new Error('no packaged template');
    return context.pkg.template;
  };
  switch (part) {
    case 'cost': {
      const schedule = scheduleFromTemplate(template());
      const estimate = estimateMonthlyCost(schedule, { pricePerUnitHour: context.price });
      const startLatencyMinutes = Number(values['start-latency-minutes']);
      if (!(startLatencyMinutes >= 0)) throw new Error('--start-latency-minutes must be a number ≥ 0');
      const serving = servingFromTemplate(template(), loadServingPolicy);
      const simulation = runCostSimulation({ schedule, ...serving, pricePerUnitHour: context.price, startLatencyMinutes, weeks: quick ? 1 : 4 });
      await writeResult('cost', { quick, source: 'packaged template, stage ci (stage parameters of serverless.yml)', ...estimate, simulation });
      for (const row of estimate.rows) log(`  ${row.scenario.padEnd(30)} ${fixed(row.hoursPerMonth).padStart(6)} h/month  $${row.monthlyCostMin.toFixed(0)}${row.monthlyCostMax !== row.monthlyCostMin ? `–${row.monthlyCostMax.toFixed(0)}` : ''}/month   ${row.description}`);
      for (const note of estimate.notes) log(`  note: ${note}`);
      const [always, window] = estimate.rows;
      const simulated = costSummary(simulation, log);
      return [
        ...simulated,
        { part, figure: `always-on, ${schedule.minInferenceUnits} IU at $${context.price}/IU-h`, value: `$${always?.monthlyCostMin.toFixed(0)}/month (${always?.hoursPerMonth} h)` },
        {
          part,
          figure: window?.scenario === 'scheduled-window' ? 'scheduled window' : 'window if started by hand (start schedule off)',
          value: `$${window?.monthlyCostMin.toFixed(0)}/month (${window?.hoursPerMonth} h, ${Math.round(estimate.windowFraction * 100)} % of always-on)`,
        },
      ];
    }
    case 'cli-training': {
      const { runCliTrainingBench } = await import('./cli-training.js');
      const result = await runCliTrainingBench({ data: values.data, log });
      await writeResult('cli-training', result);
      return [
        { part, figure: `pneumo dataset upload (${result.images} images, local S3)`, value: `${result.uploadSeconds} s, ${result.uploadPerSecond} images/s` },
        { part, figure: 'pneumo retrain --wait (PrepareDataset … promote)', value: `${result.status} in ${result.retrainSeconds} s, F1 ${result.f1?.toFixed(3) ?? 'n/a'}` },
      ];
    }
    case 'pipeline': {
      const { runPipelineBench } = await import('./pipeline.js');
      const result = await runPipelineBench({ template: template(), images: quick ? 100 : 1000, serviceTimesMs: quick ? [50] : [100, 50, 25, 10], secondsPerPhase: quick ? 2 : 8, log });
      await writeResult('pipeline', { quick, ...result });
      const lat = result.closedLoop.latencyMs;
      const ratioOf = (x: number): number => Math.round((x / result.raw.perSecond) * 1000) / 1000;
      return [
        ...result.modelBound.flatMap((bound): SummaryLine[] => [
          {
            part,
            figure: `model-bound, ${bound.serviceMs} ms/image on 1 unit: pipeline burst ÷ raw`,
            value: `${bound.burst.perSecond} / ${bound.raw.perSecond} images/s = ${bound.burst.ratio} (closed loop ${bound.closedLoop.ratio})`,
            goal: `ratio ≥ ${result.ratioGoal}`,
            met: bound.burst.ratio >= result.ratioGoal,
          },
          { part, figure: `model-bound, ${bound.serviceMs} ms/image: end-to-end latency (closed loop)`, value: `p50 ${fixed(bound.closedLoop.latencyMs.p50)} / p95 ${fixed(bound.closedLoop.latencyMs.p95)} / p99 ${fixed(bound.closedLoop.latencyMs.p99)} ms` },
        ]),
        { part, figure: 'CPU-bound (zero service time): raw DetectCustomLabels', value: `${result.raw.perSecond} calls/s (before ${result.raw.before.perSecond}, after ${result.raw.after.perSecond})` },
        { part, figure: 'CPU-bound: classify\'s SDK calls issued directly', value: `${result.sameCalls.perSecond} images/s, ratio ${ratioOf(result.sameCalls.perSecond)}` },
        { part, figure: 'CPU-bound: upload + those calls directly', value: `${result.directVariants.uploadPlusClassifyCalls.perSecond} images/s, ratio ${result.directVariants.uploadPlusClassifyCalls.ratio}` },
        { part, figure: 'CPU-bound option: calls without the HEAD', value: `${result.directVariants.withoutHead.perSecond} images/s, ratio ${result.directVariants.withoutHead.ratio}` },
        { part, figure: 'CPU-bound option: without HEAD and the duplicate pre-check', value: `${result.directVariants.withoutHeadAndPreCheck.perSecond} images/s, ratio ${result.directVariants.withoutHeadAndPreCheck.ratio}` },
        { part, figure: `CPU-bound: pipeline closed loop (${String(result.settings.concurrency)} uploaders)`, value: `${result.closedLoop.perSecond} images/s, ratio ${result.closedLoop.ratio}` },
        { part, figure: 'CPU-bound: pipeline burst', value: `${result.burst.perSecond} images/s, ratio ${result.burst.ratio}` },
        { part, figure: 'CPU-bound: end-to-end latency (closed loop)', value: `p50 ${fixed(lat.p50)} / p95 ${fixed(lat.p95)} / p99 ${fixed(lat.p99)} ms` },
        { part, figure: 'rows CLASSIFIED / expected', value: `${result.rowsChecked.classified} / ${result.rowsChecked.expected}, dead letters ${result.rowsChecked.deadLettered}` },
      ];
    }
    case 'handler': {
      const { runHandlerBench } = await import('./handler.js');
      const result = await runHandlerBench({ records: quick ? 10_000 : 100_000, log });
      await writeResult('handler', { quick, ...result });
      return result.summary.map((line) => ({ part, ...line }));
    }
    case 'coldstart': {
      const { runColdStartBench } = await import('./coldstart.js');
      const runs = Number(values.runs ?? (quick ? 5 : 31));
      if (!context.pkg) throw new Error('no package');
      const result = await runColdStartBench({ packageDir: context.pkg.outDir, template: context.pkg.template, runs, log });
      await writeResult('coldstart', { quick, ...result });
      return result.summary.map((line) => ({ part, ...line }));
    }
    case 'model': {
      const { runModelBench } = await import('./model.js');
      const result = await runModelBench({ data: values.data, limit: quick ? 600 : 0, splitSeed: 1, log });
      if (result.skipped) {
        log(`  skipped: ${result.skipped}`);
        await writeResult('model', { quick, skipped: result.skipped });
        return [{ part, figure: 'skipped', value: result.skipped }];
      }
      await writeResult('model', { quick, ...result });
      return result.summary.map((line) => ({ part, ...line }));
    }
  }
}

process.exitCode = await main();
