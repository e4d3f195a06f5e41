/*
 * Cold start: every Lambda bundle as `osls package` builds it (sizes of the .mjs, its .map, the zip with and without
 * the map), and the time to import it in a fresh `node` process, next to a floor built with the same esbuild
 * options in the same run: a module that only imports and constructs the S3, DynamoDB and Rekognition clients,
 * and an empty module. Where classify misses a goal, esbuild's metafile says which packages weigh what, and
 * variants built the same way measure the effect of each option.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildOptions } from 'esbuild';
import type { CfnTemplate } from '../src/local/template.js';
import { aliasPlugin, buildBundle, esbuildOptionsOf, fileSize, packageVariant, POWERTOOLS_STUB, run, weights, zipSize } from './coldstart-build.js';
import type { Built, BundleSizes, PackagedVariant, PackageWeight } from './coldstart-build.js';
import { fixed, kb, median, PROJECT_DIR } from './common.js';
import type { SummaryLine } from './common.js';
import { functionEnv, importOnce } from './fresh-import.js';

export type { BundleSizes, PackagedVariant, PackageWeight } from './coldstart-build.js';

const GOAL_ZIP_BYTES = 300 * 1024;
const GOAL_INIT_RATIO = 1.15;

interface Bundle {
  readonly name: string;
  readonly file: string;
  readonly sizes: BundleSizes;
  readonly env: Record<string, string>;
}

export interface ImportTiming {
  readonly name: string;
  readonly sourceMaps: boolean;
  readonly runs: number;
  readonly importMsMedian: number;
  /** Interquartile range of the import times: the spread to read the medians against. */
  readonly importMsP25: number;
  readonly importMsP75: number;
  readonly importMs: readonly number[];
  readonly processMsMedian: number;
  /** CPU time of the same imports, round by round like importMs. */
  readonly cpuMsMedian: number;
  readonly cpuMs: readonly number[];
}

export interface ColdStartResult {
  readonly settings: Record<string, unknown>;
  readonly bundles: Readonly<Record<string, BundleSizes>>;
  readonly reproducesPackagedClassify: { readonly identicalMjs: boolean; readonly packagedMjsBytes: number; readonly rebuiltMjsBytes: number };
  readonly timings: readonly ImportTiming[];
  readonly goals: {
    readonly classifyZipBytes: number;
    readonly zipGoalBytes: number;
    readonly zipMet: boolean;
    readonly classifyInitMs: number;
    readonly floorInitMs: number;
    readonly initRatio: number;
    readonly initGoalRatio: number;
    readonly initMet: boolean;
    /** Median over rounds of classify ÷ floor within the round: the ratio least moved by load that drifts. */
    readonly initRatioPerRound: number;
    /** The same medians in CPU time: what a machine loaded by other processes inflates least. */
    readonly classifyCpuMs: number;
    readonly floorCpuMs: number;
    readonly cpuRatio: number;
  };
  /** Classify with Powertools Tracer (X-Ray active tracing), measured in the same rounds: the tracing decision's input. */
  readonly tracing: TracingVariant;
  readonly weights: {
    readonly classify: readonly PackageWeight[];
    readonly floor: readonly PackageWeight[];
    readonly classifyOverFloor: readonly PackageWeight[];
  };
  readonly options: readonly OptionEffect[];
  readonly packagedVariants: readonly PackagedVariant[];
  readonly summary: readonly Omit<SummaryLine, 'part'>[];
  readonly notes: readonly string[];
}

export interface TracingVariant {
  readonly variant: string;
  /** The packaged zip it would make (Info-ZIP difference to classify applied to the packaged zip), with the map. */
  readonly zipBytes: number;
  readonly zipDeltaBytes: number;
  readonly mjsBytes: number;
  /** Bytes the tracer adds to classify's .mjs, package by package (metafile): the tracer, the X-Ray SDK and what they bring. */
  readonly bytesAddedToMjs: number;
  readonly initMs: number;
  readonly initRatio: number;
  /** Classify's own ratio in the same rounds, to read the tracer's cost against. */
  readonly classifyInitRatio: number;
  readonly initRatioWithoutSourceMaps: number;
  readonly initGoalRatio: number;
  readonly initMet: boolean;
  readonly zipMet: boolean;
  readonly initRatioPerRound: number;
  readonly cpuRatio: number;
  readonly classifyCpuRatio: number;
}

export interface OptionEffect {
  readonly option: string;
  readonly change: string;
  readonly zipBytes: number;
  readonly zipDeltaBytes: number;
  readonly initMs: number | undefined;
  readonly initRatio: number | undefined;
}

export interface ColdStartOptions {
  readonly packageDir: string;
  readonly template: CfnTemplate;
  readonly runs: number;
  readonly log: (line: string) => void;
}

// Names of the timed bundles, as the timings in the result carry them.
const CLASSIFY = 'classify';
const FLOOR = 'floor (S3+DynamoDB+Rekognition clients)';
const EMPTY = 'empty module';
const STUBBED = 'classify, Powertools stubbed';
const NO_KEEP_NAMES = 'classify, keepNames off';
const TRACED = 'classify, Powertools Tracer';
const NO_SPLIT = 'classify without code splitting';
const FLOOR_NO_SPLIT = 'floor without code splitting';

const CLASSIFY_ENTRY = 'src/handlers/classify.ts'; // relative to the project, as serverless-esbuild passes it
const TRACED_ENTRY = 'bench/variants/classify-traced.ts';

/** What Lambda adds to a function's environment when its TracingConfig is Active (the X-Ray daemon's address). */
const ACTIVE_TRACING_ENV = {
  AWS_XRAY_CONTEXT_MISSING: 'LOG_ERROR',
  AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129:2000',
  _AWS_XRAY_DAEMON_ADDRESS: '169.254.79.129',
  _AWS_XRAY_DAEMON_PORT: '2000',
};

/** The bundles `osls package` wrote, unzipped, with classify singled out. */
interface PackagedBundles {
  readonly bundles: readonly Bundle[];
  readonly classify: Bundle;
}

/** Bundles rebuilt with the packaged esbuild options: classify itself, the floor, and one per option measured. */
interface ComparisonBundles {
  readonly rebuilt: Built;
  readonly identicalMjs: boolean;
  readonly packagedMjsBytes: number;
  readonly floor: Built;
  readonly empty: Built;
  readonly noPowertools: Built;
  readonly noKeepNames: Built;
  readonly noMap: Built;
  readonly traced: Built;
  readonly noSplit: Built;
  readonly floorNoSplit: Built;
}

/** The packaged classify files zipped with Info-ZIP (what serverless-esbuild's nativeZip: true uses). */
interface InfoZipSizes {
  readonly withMap: number;
  readonly withoutMap: number;
}

interface ImportCandidate {
  readonly name: string;
  readonly file: string;
  readonly env: Record<string, string>;
  /** --enable-source-maps on (as deployed) and, for the bundles compared without it, off. */
  readonly modes: readonly boolean[];
}

/** Median import time of one timed bundle, by name and source-map mode. */
type MedianOf = (name: string, sourceMaps: boolean) => number;

export async function runColdStartBench(options: ColdStartOptions): Promise<ColdStartResult> {
  const { log } = options;
  const work = await mkdtemp(join(tmpdir(), 'pneumo-bench-coldstart-'));
  try {
    const esbuildOptions = await esbuildOptionsOf(options.packageDir);
    const packaged = await unzipPackagedBundles(options.packageDir, options.template, work, log);
    const built = await buildComparisonBundles(esbuildOptions, packaged.classify, work, log);
    const infoZip = await zipPackagedClassifyWithInfoZip(work);
    const timings = await timeFreshImports(importCandidates(packaged, built), options.runs, log);
    const packagedVariants = await packageServerlessVariants(work, log);
    return report({ esbuildOptions, runs: options.runs, packaged, built, infoZip, timings, packagedVariants }, log);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

// ---- phase 1: the packaged bundles, unzipped, each with its size with and without the map and its environment
async function unzipPackagedBundles(packageDir: string, template: CfnTemplate, work: string, log: (line: string) => void): Promise<PackagedBundles> {
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  const bundles: Bundle[] = [];
  for (const zip of (await readdir(packageDir)).filter((f) => f.endsWith('.zip')).sort()) {
    const name = zip.replace(/\.zip$/, '');
    const dir = join(work, 'packaged', name);
    await mkdir(dir, { recursive: true });
    await run('unzip', ['-q', join(packageDir, zip), '-d', dir]);
    const files = (await readdir(dir, { recursive: true })).map(String);
    // The handler's bundle, not one of its chunks (src/handlers/chunks-<handler>/).
    const mjs = files.find((f) => f.endsWith('.mjs') && !/(^|\/)chunks-[^/]+\//.test(f));
    if (!mjs) throw new Error(`${zip} holds no .mjs`);
    const map = files.find((f) => f === `${mjs}.map`);
    const withoutMap = join(work, `${name}-nomap.zip`);
    await copyFile(join(packageDir, zip), withoutMap);
    const maps = files.filter((f) => f.endsWith('.map'));
    if (maps.length > 0) await run('zip', ['-q', '-d', withoutMap, ...maps]);
    const logicalId = functions.find(([id]) => id.toLowerCase() === `${name}LambdaFunction`.toLowerCase())?.[0] ?? '';
    bundles.push({
      name,
      file: join(dir, mjs),
      env: functionEnv(template, logicalId),
      sizes: {
        mjsBytes: await fileSize(join(dir, mjs)),
        mapBytes: map ? await fileSize(join(dir, map)) : 0,
        zipBytes: await fileSize(join(packageDir, zip)),
        zipWithoutMapBytes: await fileSize(withoutMap),
      },
    });
  }
  const classify = bundles.find((b) => b.name === CLASSIFY);
  if (!classify) throw new Error('the package has no classify.zip');
  for (const b of bundles) log(`  ${b.name.padEnd(15)} ${kb(b.sizes.mjsBytes)} KB .mjs + ${kb(b.sizes.mapBytes)} KB .map; zip ${kb(b.sizes.zipBytes)} KB (${kb(b.sizes.zipWithoutMapBytes)} KB without the map)`);
  return { bundles, classify };
}

// ---- phase 2: the same esbuild options: classify rebuilt (checks the reproduction, gives the metafile), the
// floor, the empty module, and one classify per option measured
async function buildComparisonBundles(esbuildOptions: BuildOptions, classify: Bundle, work: string, log: (line: string) => void): Promise<ComparisonBundles> {
  const entries = join(work, 'entries');
  await mkdir(entries, { recursive: true });
  await writeFile(
    join(entries, 'floor.ts'),
    `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { RekognitionClient } from '@aws-sdk/client-rekognition';\nimport { S3Client } from '@aws-sdk/client-s3';\n` +
      `export const clients = [new S3Client({}), new DynamoDBClient({}), new RekognitionClient({})];\nexport const handler = async (): Promise<number> => clients.length;\n`,
  );
  await writeFile(join(entries, 'empty.ts'), 'export const handler = async (): Promise<null> => null;\n');
  await writeFile(join(entries, 'powertools-stub.mjs'), POWERTOOLS_STUB);
  const builtDir = (name: string): string => join(work, 'built', name);
  const rebuilt = await buildBundle(esbuildOptions, CLASSIFY_ENTRY, builtDir('classify'));
  const packagedMjs = await readFile(classify.file);
  const identicalMjs = packagedMjs.equals(await readFile(rebuilt.file));
  log(`  classify rebuilt with the same esbuild options: ${identicalMjs ? 'byte-identical .mjs' : `differs (${packagedMjs.length} vs ${rebuilt.sizes.mjsBytes} bytes)`}`);
  // The floor and empty entries live outside the project: resolve packages from the project's node_modules.
  const outside = { nodePaths: [join(PROJECT_DIR, 'node_modules')] };
  return {
    rebuilt,
    identicalMjs,
    packagedMjsBytes: packagedMjs.length,
    floor: await buildBundle(esbuildOptions, join(entries, 'floor.ts'), builtDir('floor'), outside),
    empty: await buildBundle(esbuildOptions, join(entries, 'empty.ts'), builtDir('empty'), outside),
    noPowertools: await buildBundle(esbuildOptions, CLASSIFY_ENTRY, builtDir('classify-no-powertools'), {
      plugins: [aliasPlugin(/^@aws-lambda-powertools\/(logger|metrics)$/, join(entries, 'powertools-stub.mjs')), ...(esbuildOptions.plugins ?? [])],
    }),
    noKeepNames: await buildBundle(esbuildOptions, CLASSIFY_ENTRY, builtDir('classify-no-keepnames'), { keepNames: false }),
    noMap: await buildBundle(esbuildOptions, CLASSIFY_ENTRY, builtDir('classify-no-sourcemap'), { sourcemap: false }),
    traced: await buildBundle(esbuildOptions, TRACED_ENTRY, builtDir('classify-traced')),
    // Every import() inlined, as before splitting: the SDK's credential providers and the SFN client parsed at cold start.
    noSplit: await buildBundle(esbuildOptions, CLASSIFY_ENTRY, builtDir('classify-no-splitting'), { splitting: false }),
    floorNoSplit: await buildBundle(esbuildOptions, join(entries, 'floor.ts'), builtDir('floor-no-splitting'), { ...outside, splitting: false }),
  };
}

// ---- phase 3: the packaged classify files re-zipped with Info-ZIP
async function zipPackagedClassifyWithInfoZip(work: string): Promise<InfoZipSizes> {
  const classifyDir = join(work, 'packaged', CLASSIFY);
  const files = (await readdir(classifyDir, { recursive: true })).map(String).filter((f) => f.endsWith('.mjs') || f.endsWith('.map'));
  return {
    withMap: await zipSize(classifyDir, files, join(work, 'classify-infozip.zip')),
    withoutMap: await zipSize(classifyDir, files.filter((f) => f.endsWith('.mjs')), join(work, 'classify-infozip-nomap.zip')),
  };
}

// ---- phase 4: fresh-process imports, interleaved round by round so drift hits every bundle alike
function importCandidates(packaged: PackagedBundles, built: ComparisonBundles): ImportCandidate[] {
  const env = packaged.classify.env;
  return [
    { name: CLASSIFY, file: packaged.classify.file, env, modes: [true, false] },
    { name: FLOOR, file: built.floor.file, env, modes: [true, false] },
    { name: EMPTY, file: built.empty.file, env, modes: [true, false] },
    { name: STUBBED, file: built.noPowertools.file, env, modes: [true, false] },
    { name: NO_KEEP_NAMES, file: built.noKeepNames.file, env, modes: [true] },
    { name: NO_SPLIT, file: built.noSplit.file, env, modes: [true] },
    { name: FLOOR_NO_SPLIT, file: built.floorNoSplit.file, env, modes: [true] },
    { name: TRACED, file: built.traced.file, env: { ...env, ...ACTIVE_TRACING_ENV }, modes: [true, false] },
    ...packaged.bundles.filter((b) => b !== packaged.classify).map((b) => ({ name: b.name, file: b.file, env: b.env, modes: [true] })),
  ];
}

async function timeFreshImports(candidates: readonly ImportCandidate[], runs: number, log: (line: string) => void): Promise<ImportTiming[]> {
  const samples = new Map<string, { importMs: number[]; cpuMs: number[]; processMs: number[] }>();
  const key = (name: string, sourceMaps: boolean): string => `${name}|${sourceMaps ? 'maps' : 'nomaps'}`;
  for (const c of candidates) for (const mode of c.modes) await importOnce(c.file, c.env, mode); // page cache, first-run effects
  for (let round = 0; round < runs; round++) {
    for (const c of candidates) {
      for (const mode of c.modes) {
        const { importMs, cpuMs, processMs } = await importOnce(c.file, c.env, mode);
        const entry = samples.get(key(c.name, mode)) ?? { importMs: [], cpuMs: [], processMs: [] };
        entry.importMs.push(importMs);
        entry.cpuMs.push(cpuMs);
        entry.processMs.push(processMs);
        samples.set(key(c.name, mode), entry);
      }
    }
    if ((round + 1) % 5 === 0) log(`  import round ${round + 1}/${runs}`);
  }
  const timings = candidates.flatMap((c) =>
    c.modes.map((mode): ImportTiming => {
      const s = samples.get(key(c.name, mode)) ?? { importMs: [], cpuMs: [], processMs: [] };
      const sorted = [...s.importMs].sort((a, b) => a - b);
      const quartile = (q: number): number => Math.round((sorted[Math.floor(q * (sorted.length - 1))] ?? Number.NaN) * 10) / 10;
      return {
        name: c.name,
        sourceMaps: mode,
        runs: s.importMs.length,
        importMsMedian: median(s.importMs),
        importMsP25: quartile(0.25),
        importMsP75: quartile(0.75),
        importMs: s.importMs.map((x) => Math.round(x * 10) / 10),
        processMsMedian: median(s.processMs),
        cpuMsMedian: median(s.cpuMs),
        cpuMs: s.cpuMs.map((x) => Math.round(x * 10) / 10),
      };
    }),
  );
  for (const t of timings) log(`  import ${t.name}${t.sourceMaps ? '' : ' (no --enable-source-maps)'}: median ${fixed(t.importMsMedian)} ms, IQR ${fixed(t.importMsP25)}–${fixed(t.importMsP75)} ms, CPU ${fixed(t.cpuMsMedian)} ms (process ${fixed(t.processMsMedian)} ms)`);
  return timings;
}

// ---- phase 5: the exact serverless.yml changes, packaged for real in copies of the project
const SERVERLESS_VARIANTS: readonly (readonly [string, string, (yml: string) => string])[] = [
  ['patterns', "package: patterns: ['!**/*.map'] (service level)", (yml) => yml.replace(/^package:\n {2}individually: true\n/m, "package:\n  individually: true\n  patterns:\n    - '!**/*.map'\n")],
  ['nomap', 'custom.esbuild: sourcemap: false', (yml) => yml.replace(/^ {4}sourcemap: linked$/m, '    sourcemap: false')],
  ['nativezip', 'custom.esbuild: nativeZip: true', (yml) => yml.replace(/^ {4}sourcesContent: false$/m, '    sourcesContent: false\n    nativeZip: true')],
  ['nomap-nativezip', 'custom.esbuild: sourcemap: false and nativeZip: true', (yml) => yml.replace(/^ {4}sourcemap: linked$/m, '    sourcemap: false').replace(/^ {4}sourcesContent: false$/m, '    sourcesContent: false\n    nativeZip: true')],
];

async function packageServerlessVariants(work: string, log: (line: string) => void): Promise<PackagedVariant[]> {
  const packagedVariants: PackagedVariant[] = [];
  for (const [name, change, edit] of SERVERLESS_VARIANTS) {
    try {
      const variant = await packageVariant(work, name, change, edit);
      packagedVariants.push(variant);
      log(`  packaged with ${change}: classify.zip ${kb(variant.classifyZipBytes)} KB [${variant.classifyZipEntries.join(', ')}]`);
    } catch (error) {
      log(`  packaged variant ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return packagedVariants;
}

// ---- phase 6: goals, option effects, the tracing variant, the summary and the notes
interface Measured {
  readonly esbuildOptions: BuildOptions;
  readonly runs: number;
  readonly packaged: PackagedBundles;
  readonly built: ComparisonBundles;
  readonly infoZip: InfoZipSizes;
  readonly timings: readonly ImportTiming[];
  readonly packagedVariants: readonly PackagedVariant[];
}

const ratio = (x: number, base: number): number => Math.round((x / base) * 1000) / 1000;

function medianOf(timings: readonly ImportTiming[], of: 'importMsMedian' | 'cpuMsMedian' = 'importMsMedian'): MedianOf {
  return (name, sourceMaps) => timings.find((t) => t.name === name && t.sourceMaps === sourceMaps)?.[of] ?? Number.NaN;
}

/** Median over rounds of `name` ÷ `base` imported in the same round (source maps on, as deployed). */
function perRoundRatio(timings: readonly ImportTiming[], name: string, base: string): number {
  const samples = (n: string): readonly number[] => timings.find((t) => t.name === n && t.sourceMaps)?.importMs ?? [];
  const bases = samples(base);
  return ratio(median(samples(name).map((x, round) => x / (bases[round] ?? Number.NaN))), 1);
}

/**
 * A variant's zip as osls would package it: variants are zipped with Info-ZIP, so their effect is their difference
 * to the rebuilt classify zipped the same way, applied to the packaged zip (archiver compresses the same files less).
 */
function packagedEstimate(m: Measured, variant: BundleSizes, withMap: boolean): number {
  const { classify } = m.packaged;
  const { rebuilt } = m.built;
  return withMap ? classify.sizes.zipBytes + variant.zipBytes - rebuilt.sizes.zipBytes : classify.sizes.zipWithoutMapBytes + variant.zipWithoutMapBytes - rebuilt.sizes.zipWithoutMapBytes;
}

function goalsOf(m: Measured): ColdStartResult['goals'] {
  const at = medianOf(m.timings);
  const zip = m.packaged.classify.sizes.zipBytes;
  const classifyMs = at(CLASSIFY, true);
  const floorMs = at(FLOOR, true);
  const cpu = medianOf(m.timings, 'cpuMsMedian');
  return {
    classifyZipBytes: zip,
    zipGoalBytes: GOAL_ZIP_BYTES,
    zipMet: zip <= GOAL_ZIP_BYTES,
    classifyInitMs: classifyMs,
    floorInitMs: floorMs,
    initRatio: ratio(classifyMs, floorMs),
    initGoalRatio: GOAL_INIT_RATIO,
    initMet: classifyMs <= GOAL_INIT_RATIO * floorMs,
    initRatioPerRound: perRoundRatio(m.timings, CLASSIFY, FLOOR),
    classifyCpuMs: cpu(CLASSIFY, true),
    floorCpuMs: cpu(FLOOR, true),
    cpuRatio: ratio(cpu(CLASSIFY, true), cpu(FLOOR, true)),
  };
}

function tracingOf(m: Measured): TracingVariant {
  const at = medianOf(m.timings);
  const cpu = medianOf(m.timings, 'cpuMsMedian');
  const { traced } = m.built;
  const floorMs = at(FLOOR, true);
  const tracedMs = at(TRACED, true);
  const classifyBytes = new Map(weights(m.built.rebuilt.metafile).map((w) => [w.package, w.bytes]));
  const added = weights(traced.metafile).reduce((sum, w) => sum + Math.max(0, w.bytes - (classifyBytes.get(w.package) ?? 0)), 0);
  return {
    variant: `${TRACED_ENTRY}: classify with @aws-lambda-powertools/tracer (handler subsegment, cold-start and service annotations, the three SDK clients captured), environment as Lambda sets it for Active tracing`,
    zipBytes: packagedEstimate(m, traced.sizes, true),
    zipDeltaBytes: packagedEstimate(m, traced.sizes, true) - m.packaged.classify.sizes.zipBytes,
    mjsBytes: traced.sizes.mjsBytes,
    bytesAddedToMjs: added,
    initMs: tracedMs,
    initRatio: ratio(tracedMs, floorMs),
    classifyInitRatio: ratio(at(CLASSIFY, true), floorMs),
    initRatioWithoutSourceMaps: ratio(at(TRACED, false), at(FLOOR, false)),
    initGoalRatio: GOAL_INIT_RATIO,
    initMet: tracedMs <= GOAL_INIT_RATIO * floorMs,
    zipMet: packagedEstimate(m, traced.sizes, true) <= GOAL_ZIP_BYTES,
    initRatioPerRound: perRoundRatio(m.timings, TRACED, FLOOR),
    cpuRatio: ratio(cpu(TRACED, true), cpu(FLOOR, true)),
    classifyCpuRatio: ratio(cpu(CLASSIFY, true), cpu(FLOOR, true)),
  };
}

function optionEffects(m: Measured): OptionEffect[] {
  const at = medianOf(m.timings);
  const { classify } = m.packaged;
  const { noPowertools, noKeepNames, noMap } = m.built;
  const zip = classify.sizes.zipBytes;
  const floorMs = at(FLOOR, true);
  const floorNoMapsMs = at(FLOOR, false);
  const effect = (option: string, change: string, zipBytes: number, initMs?: number, base?: number): OptionEffect => ({
    option,
    change,
    zipBytes,
    zipDeltaBytes: zipBytes - zip,
    initMs,
    initRatio: initMs === undefined || base === undefined ? undefined : ratio(initMs, base),
  });
  return [
    effect(
      'ship the bundle without its .map',
      'serverless.yml custom.esbuild: sourcemap: false, and drop NODE_OPTIONS=--enable-source-maps from the function environments (package.patterns ["!**/*.map"] does not remove it: see packagedVariants)',
      classify.sizes.zipWithoutMapBytes,
      at(CLASSIFY, false),
      floorNoMapsMs,
    ),
    effect(
      'keep the map in the zip, drop --enable-source-maps at run time',
      'remove NODE_OPTIONS: --enable-source-maps from provider.environment (stack traces then point into the minified bundle)',
      zip,
      at(CLASSIFY, false),
      floorMs,
    ),
    effect(
      'Powertools Logger + Metrics replaced by a minimal JSON logger / EMF writer (upper bound of their weight)',
      'src/lib/observability.ts: write the JSON log lines and the EMF blobs with console.log instead of @aws-lambda-powertools/logger and /metrics',
      packagedEstimate(m, noPowertools.sizes, true),
      at(STUBBED, true),
      floorMs,
    ),
    effect('Powertools stubbed and no map in the zip, no --enable-source-maps', 'both changes above', packagedEstimate(m, noPowertools.sizes, false), at(STUBBED, false), floorNoMapsMs),
    effect(
      'keepNames off',
      'serverless.yml custom.esbuild: keepNames: false (errors are matched by `name`, which the SDK and src/lib/errors.ts set explicitly)',
      packagedEstimate(m, noKeepNames.sizes, true),
      at(NO_KEEP_NAMES, true),
      floorMs,
    ),
    effect(
      'without code splitting (every import() inlined, as before), against the floor built the same way',
      'serverless.yml custom.esbuild: splitting: false',
      packagedEstimate(m, m.built.noSplit.sizes, true),
      at(NO_SPLIT, true),
      at(FLOOR_NO_SPLIT, true),
    ),
    effect('esbuild sourcemap: false (rebuilt; the first row built rather than unzipped)', 'serverless.yml custom.esbuild: sourcemap: false', packagedEstimate(m, noMap.sizes, false)),
    effect('zip with Info-ZIP instead of archiver (same files)', 'serverless.yml custom.esbuild: nativeZip: true (needs the `zip` command where you package)', m.infoZip.withMap),
    effect('Info-ZIP and no map in the zip', 'nativeZip: true and sourcemap: false (or package.patterns: ["!**/*.map"])', m.infoZip.withoutMap),
  ];
}

function report(m: Measured, log: (line: string) => void): ColdStartResult {
  const at = medianOf(m.timings);
  const { classify } = m.packaged;
  const { rebuilt, floor, empty } = m.built;
  const goals = goalsOf(m);
  const tracing = tracingOf(m);
  const optionsMeasured = optionEffects(m);
  const iqr = (name: string): string => {
    const t = m.timings.find((x) => x.name === name && x.sourceMaps);
    return t ? `${fixed(t.importMsP25)}–${fixed(t.importMsP75)} ms` : '?';
  };
  const classifyWeights = weights(rebuilt.metafile);
  const floorWeights = new Map(weights(floor.metafile).map((w) => [w.package, w.bytes]));
  const overFloor = classifyWeights
    .map((w) => ({ package: w.package, bytes: w.bytes - (floorWeights.get(w.package) ?? 0) }))
    .filter((w) => w.bytes !== 0)
    .sort((a, b) => b.bytes - a.bytes);
  const zip = goals.classifyZipBytes;
  const floorNoMapsMs = at(FLOOR, false);
  const summary: Omit<SummaryLine, 'part'>[] = [
    { figure: 'classify zip (packaged, .mjs + .map)', value: `${kb(zip)} KB (${kb(classify.sizes.zipWithoutMapBytes)} KB without the map); .mjs ${kb(classify.sizes.mjsBytes)} KB`, goal: '≤ 300 KB', met: goals.zipMet },
    { figure: 'floor zip (same esbuild options, Info-ZIP)', value: `${kb(floor.sizes.zipBytes)} KB (${kb(floor.sizes.zipWithoutMapBytes)} KB without the map); .mjs ${kb(floor.sizes.mjsBytes)} KB; classify the same way ${kb(rebuilt.sizes.zipBytes)} KB` },
    {
      figure: `classify import, median of ${m.runs}`,
      value: `${fixed(goals.classifyInitMs)} ms = ${goals.initRatio}× floor ${fixed(goals.floorInitMs)} ms (empty ${fixed(at(EMPTY, true))} ms); IQR classify ${iqr(CLASSIFY)}, floor ${iqr(FLOOR)}; per round ${goals.initRatioPerRound}×`,
      goal: `≤ ${GOAL_INIT_RATIO}× floor`,
      met: goals.initMet,
    },
    { figure: 'classify import, CPU time (the load of other processes inflates it least)', value: `${fixed(goals.classifyCpuMs)} ms = ${goals.cpuRatio}× floor ${fixed(goals.floorCpuMs)} ms` },
    { figure: 'same without --enable-source-maps', value: `${fixed(at(CLASSIFY, false))} ms = ${ratio(at(CLASSIFY, false), floorNoMapsMs)}× floor ${fixed(floorNoMapsMs)} ms` },
    {
      figure: 'tracing: classify with Powertools Tracer, import',
      value: `${fixed(tracing.initMs)} ms = ${tracing.initRatio}× floor (classify ${tracing.classifyInitRatio}×; per round ${tracing.initRatioPerRound}×; CPU ${tracing.cpuRatio}×, classify ${tracing.classifyCpuRatio}×); IQR ${iqr(TRACED)}`,
      goal: `≤ ${GOAL_INIT_RATIO}× floor`,
      met: tracing.initMet,
    },
    { figure: 'tracing: classify with Powertools Tracer, zip', value: `${kb(tracing.zipBytes)} KB (+${kb(tracing.zipDeltaBytes)} KB; tracer + X-Ray SDK ${kb(tracing.bytesAddedToMjs)} KB of .mjs)`, goal: '≤ 300 KB', met: tracing.zipMet },
    { figure: 'classify bytes over the floor (metafile)', value: overFloor.slice(0, 4).map((w) => `${w.package} ${kb(w.bytes)} KB`).join(', ') },
    ...optionsMeasured.map((o) => ({
      figure: `option: ${o.option.length > 64 ? `${o.option.slice(0, 63)}…` : o.option}`,
      value: `zip ${kb(o.zipBytes)} KB${o.initMs === undefined ? '' : `, init ${fixed(o.initMs)} ms = ${String(o.initRatio)}× floor`}`,
    })),
    ...m.packagedVariants.map((v) => ({ figure: `osls package with ${v.change}`, value: `classify.zip ${kb(v.classifyZipBytes)} KB`, goal: '≤ 300 KB', met: v.classifyZipBytes <= GOAL_ZIP_BYTES })),
  ];
  log(`  classify over floor: ${overFloor.slice(0, 8).map((w) => `${w.package} ${kb(w.bytes)} KB`).join(', ')}`);
  const libDynamo = (classifyWeights.find((w) => w.package === '@aws-sdk/lib-dynamodb')?.bytes ?? 0) + (classifyWeights.find((w) => w.package === '@aws-sdk/util-dynamodb')?.bytes ?? 0);
  const powertools = classifyWeights.filter((w) => w.package.startsWith('@aws-lambda-powertools/')).reduce((a, w) => a + w.bytes, 0);
  return {
    settings: {
      build: 'osls package --stage ci --region eu-west-1 (serverless-esbuild, custom.esbuild of serverless.yml); floor and variants with esbuild and the same options read from the packaged serverless-state.json',
      esbuildOptions: m.esbuildOptions,
      runs: m.runs,
      importMeasure: 'performance.now() around `await import(bundle)` inside a fresh `node` (Node on this machine, not the Lambda runtime); cpuMs: process.cpuUsage() around the same import (all threads); processMs adds node boot and exit',
      environment: 'the function environment from the packaged template (references as placeholders) + AWS_REGION, AWS_EXECUTION_ENV, fake credentials; NODE_OPTIONS=--enable-source-maps as deployed, or none',
      zip: 'packaged zips as osls wrote them; "without the map" = the packaged zip with the .map entry deleted; floor/variants zipped with Info-ZIP at its default level',
    },
    bundles: {
      ...Object.fromEntries(m.packaged.bundles.map((b) => [b.name, b.sizes])),
      'floor (rebuilt)': floor.sizes,
      'empty (rebuilt)': empty.sizes,
      'classify (rebuilt)': rebuilt.sizes,
      [STUBBED]: m.built.noPowertools.sizes,
      [NO_KEEP_NAMES]: m.built.noKeepNames.sizes,
      'classify, sourcemap false': m.built.noMap.sizes,
      [TRACED]: m.built.traced.sizes,
      [NO_SPLIT]: m.built.noSplit.sizes,
      [FLOOR_NO_SPLIT]: m.built.floorNoSplit.sizes,
    },
    reproducesPackagedClassify: { identicalMjs: m.built.identicalMjs, packagedMjsBytes: m.built.packagedMjsBytes, rebuiltMjsBytes: rebuilt.sizes.mjsBytes },
    timings: m.timings,
    goals,
    tracing,
    weights: { classify: classifyWeights.slice(0, 25), floor: weights(floor.metafile).slice(0, 25), classifyOverFloor: overFloor.slice(0, 25) },
    options: optionsMeasured,
    packagedVariants: m.packagedVariants,
    summary,
    notes: [
      `Powertools (logger, metrics, commons) put ${kb(powertools)} KB into classify's .mjs; lib-dynamodb + util-dynamodb ${kb(libDynamo)} KB (replacing the document client with the plain client and util-dynamodb's marshall would save at most the lib-dynamodb part).`,
      `The floor itself zips to ${kb(floor.sizes.zipBytes)} KB with its .map (${kb(floor.sizes.zipWithoutMapBytes)} KB without): with a linked map in the artifact no bundle that holds these three clients fits 300 KB, so the size goal can only be met without the map in the zip.`,
      'The .map is bigger than the .mjs and compresses less; Lambda never reads it unless NODE_OPTIONS=--enable-source-maps, which makes Node read and parse it at import.',
      'nativeZip: true zips with the system `zip`, which stores directory entries and the real file times: the artifact then changes on every build (the default archiver zip is reproducible, dated 1980), so every deploy updates every function.',
      `"tracing" is classify with Powertools Tracer as it would be deployed with Active tracing (${TRACED_ENTRY}); it is measured, not deployed: tracing stays off by default (README, "Tracing").`,
      'Import times are from this shared 2-core machine (see loadAverage1m); the ratio to the floor measured in the same rounds is the figure to compare.',
    ],
  };
}
