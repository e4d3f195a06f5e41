/*
 * Model quality and speed on the real data (needs /work/shared/data/chest-xray or DATA_DIR; not part of CI).
 *   npx tsx bench/model.ts [--hidden 0] [--epochs 30] [--split-seed 1]     the model alone, patient-disjoint split
 *   npx tsx bench/model.ts --via-emulator [--limit N]                     the whole path through the emulator
 * --via-emulator: the local S3 + the emulator on free ports, every image uploaded with a Ground Truth manifest,
 * CreateProjectVersion (TestingData AutoCreate) timed to TRAINING_COMPLETED, the longest DescribeProjectVersions
 * answer during training (responsiveness), then DetectCustomLabels latency (Bytes and S3Object, real SDK).
 * Held-out split: 20 % of PATIENTS (not images) per class, so no patient's other images leak into training.
 * The patient id is taken from the file name here only to group the split; the model never sees names.
 * Inside the training 80 %, a further 15 % of patients is the validation set that calibrates the threshold.
 * bench/run.ts calls `runModelBench` (the model-alone path) and writes bench/results/model.json.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as rk from '@aws-sdk/client-rekognition';
import type { ProjectVersionDescription } from '@aws-sdk/client-rekognition';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { LOCAL_CREDENTIALS, startLocalS3 } from '../src/local/s3.js';
import { startRekognitionEmulator } from '../src/local/rekognition/index.js';
import { decodeToPixels, extractFeatures, FEATURE_LENGTH } from '../src/local/rekognition/features.js';
import { calibrateShift, DEFAULT_TRAIN_OPTIONS, logitsOf, rocAuc, seededRandom, trainModel } from '../src/local/rekognition/model.js';

function cliValues() {
  return parseArgs({
    options: {
      data: { type: 'string', default: process.env.DATA_DIR ?? '/work/shared/data/chest-xray/train' },
      hidden: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.hidden) },
      epochs: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.epochs) },
      l2: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.l2) },
      lr: { type: 'string', default: String(DEFAULT_TRAIN_OPTIONS.learningRate) },
      limit: { type: 'string', default: '0' },
      'split-seed': { type: 'string', default: '1' },
      'via-emulator': { type: 'boolean', default: false },
      detections: { type: 'string', default: '300' },
    },
  }).values;
}

const LABELS = ['NORMAL', 'PNEUMONIA'] as const;

function patientOf(file: string): string {
  return file.startsWith('person') ? (file.split('_')[0] ?? file) : file.replace(/-\d+\.jpeg$/, '');
}

interface Item {
  readonly file: string;
  readonly label: number;
  readonly patient: string;
}

async function pool<T, R>(items: readonly T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await work(items[i] as T);
      }
    }),
  );
  return out;
}

function splitByPatient(items: readonly Item[], fraction: number, seed: number): [Item[], Item[]] {
  const random = seededRandom(seed);
  const held = new Set<string>();
  for (let label = 0; label < LABELS.length; label++) {
    const patients = [...new Set(items.filter((i) => i.label === label).map((i) => i.patient))].sort();
    for (let i = patients.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [patients[i], patients[j]] = [patients[j] ?? '', patients[i] ?? ''];
    }
    patients.slice(0, Math.round(patients.length * fraction)).forEach((p) => held.add(`${label}/${p}`));
  }
  return [items.filter((i) => !held.has(`${i.label}/${i.patient}`)), items.filter((i) => held.has(`${i.label}/${i.patient}`))];
}

export interface Quality {
  readonly n: number;
  readonly auc: number;
  readonly accuracy: number;
  /** PNEUMONIA recall. */
  readonly sensitivity: number;
  /** NORMAL recall. */
  readonly specificity: number;
  readonly confusion: { readonly tp: number; readonly fn: number; readonly tn: number; readonly fp: number };
}

function quality(margins: number[], items: readonly Item[], shift: number): Quality {
  const positive = items.map((i) => i.label === 1);
  let tp = 0, tn = 0, fp = 0, fn = 0;
  margins.forEach((m, i) => {
    const predicted = m + shift > 0;
    if (predicted && positive[i]) tp++;
    else if (predicted) fp++;
    else if (positive[i]) fn++;
    else tn++;
  });
  const r = (x: number): number => Math.round(x * 10000) / 10000;
  return { n: items.length, auc: r(rocAuc(margins, positive)), accuracy: r((tp + tn) / items.length), sensitivity: r(tp / (tp + fn)), specificity: r(tn / (tn + fp)), confusion: { tp, fn, tn, fp } };
}

function report(log: (line: string) => void, name: string, q: Quality): Quality {
  const fmt = (x: number): string => x.toFixed(4);
  const { tp, fn, tn, fp } = q.confusion;
  log(`${name}: n=${q.n} AUC=${fmt(q.auc)} accuracy=${fmt(q.accuracy)} sensitivity=${fmt(q.sensitivity)} specificity=${fmt(q.specificity)} (tp ${tp} fn ${fn} tn ${tn} fp ${fp})`);
  return q;
}

export interface ModelBenchOptions {
  /** Folder with NORMAL/ and PNEUMONIA/ (the dataset's training split). */
  readonly data: string;
  /** Keep about this many images (0 = all). */
  readonly limit: number;
  readonly splitSeed: number;
  readonly hidden?: number;
  readonly epochs?: number;
  readonly l2?: number;
  readonly learningRate?: number;
  /** Held-out images timed one by one for inference (decode + features + model). */
  readonly inferenceSample?: number;
  readonly log?: (line: string) => void;
}

export interface ModelBenchResult {
  /** Set (and nothing else) when the data folder is missing. */
  readonly skipped?: string;
  readonly data?: string;
  readonly split?: { readonly train: number; readonly validation: number; readonly heldOut: number; readonly method: string };
  readonly features?: number;
  readonly timing?: {
    readonly decodeAndFeaturesSeconds: number;
    readonly decodeAndFeaturesMsPerImage: number;
    readonly trainingSeconds: number;
    readonly trainingImages: number;
    /** Sequential, one image at a time, bytes already in memory: decode + greyscale/resize + features + model. */
    readonly inferenceMsPerImage: { readonly n: number; readonly p50: number; readonly p95: number; readonly mean: number };
  };
  readonly calibratedShift?: number;
  readonly quality?: { readonly train: Quality; readonly validation: Quality; readonly heldOut: Quality; readonly heldOutUncalibrated: Quality };
  readonly summary: readonly { readonly figure: string; readonly value: string; readonly goal?: string; readonly met?: boolean }[];
}

export async function runModelBench(options: ModelBenchOptions): Promise<ModelBenchResult> {
  const log =
    options.log ??
    ((line: string): void => {
      console.log(line);
    });
  const data = options.data;
  if (!LABELS.every((name) => existsSync(join(data, name)))) {
    return { skipped: `no ${LABELS.join('/ and ')}/ folders under ${data} (set DATA_DIR or --data to the chest-xray training split)`, summary: [] };
  }
  let items: Item[] = LABELS.flatMap((name, label) => readdirSync(join(data, name)).sort().map((file) => ({ file: join(name, file), label, patient: patientOf(file) })));
  const limit = options.limit;
  if (limit > 0) items = items.filter((_, i) => i % Math.ceil(items.length / limit) === 0);
  const [trainAll, test] = splitByPatient(items, 0.2, options.splitSeed);
  const [train, validation] = splitByPatient(trainAll, 0.15, options.splitSeed + 1000);
  log(`images ${items.length}: train ${train.length}, validation ${validation.length}, held-out test ${test.length}; features ${FEATURE_LENGTH}`);

  let t = performance.now();
  const featureOf = async (item: Item): Promise<Float32Array> => extractFeatures(await decodeToPixels(readFileSync(join(data, item.file))));
  const trainRows = await pool(train, 4, featureOf);
  const validationRows = await pool(validation, 4, featureOf);
  const testRows = await pool(test, 4, featureOf);
  const featureSeconds = (performance.now() - t) / 1000;
  log(`decode + features: ${featureSeconds.toFixed(1)} s (${((featureSeconds * 1000) / items.length).toFixed(2)} ms/image)`);

  t = performance.now();
  const model = trainModel(trainRows, train.map((i) => i.label), 2, {
    ...DEFAULT_TRAIN_OPTIONS,
    hidden: options.hidden ?? DEFAULT_TRAIN_OPTIONS.hidden,
    epochs: options.epochs ?? DEFAULT_TRAIN_OPTIONS.epochs,
    l2: options.l2 ?? DEFAULT_TRAIN_OPTIONS.l2,
    learningRate: options.learningRate ?? DEFAULT_TRAIN_OPTIONS.learningRate,
    onEpoch: (epoch, _epochs, loss) => {
      if (epoch % 5 === 0) log(`  epoch ${epoch} loss ${loss.toFixed(4)}`);
    },
  });
  const trainSeconds = (performance.now() - t) / 1000;
  const margin = (row: Float32Array): number => {
    const l = logitsOf(model, row);
    return (l[1] ?? 0) - (l[0] ?? 0);
  };
  const validationMargins = validationRows.map(margin);
  const shift = calibrateShift(validationMargins, validation.map((i) => i.label === 1), 5);
  log(`training: ${trainSeconds.toFixed(1)} s; calibrated shift ${shift.toFixed(3)}`);
  const qualities = {
    train: report(log, 'train     ', quality(trainRows.map(margin), train, shift)),
    validation: report(log, 'validation', quality(validationMargins, validation, shift)),
    heldOut: report(log, 'held-out  ', quality(testRows.map(margin), test, shift)),
    heldOutUncalibrated: report(log, 'held-out @0', quality(testRows.map(margin), test, 0)),
  };

  // Inference as the emulator does it per request: bytes in memory → decode → features → model, one at a time.
  const sample = test.filter((_, i) => i % Math.max(1, Math.ceil(test.length / (options.inferenceSample ?? 300))) === 0);
  const bytes = sample.map((item) => readFileSync(join(data, item.file)));
  const times: number[] = [];
  for (const image of bytes) {
    const at = performance.now();
    margin(extractFeatures(await decodeToPixels(image)));
    times.push(performance.now() - at);
  }
  times.sort((a, b) => a - b);
  const r = (x: number): number => Math.round(x * 1000) / 1000;
  const inference = {
    n: times.length,
    p50: r(times[Math.floor(times.length / 2)] ?? 0),
    p95: r(times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)] ?? 0),
    mean: r(times.reduce((a, b) => a + b, 0) / Math.max(1, times.length)),
  };
  log(`inference (decode + features + model, sequential, ${inference.n} held-out images): p50 ${inference.p50.toFixed(2)} ms, p95 ${inference.p95.toFixed(2)} ms`);
  const held = qualities.heldOut;
  return {
    data,
    split: { train: train.length, validation: validation.length, heldOut: test.length, method: 'patient-disjoint: 20 % of patients per class held out, 15 % of the rest for threshold calibration' },
    features: FEATURE_LENGTH,
    timing: {
      decodeAndFeaturesSeconds: r(featureSeconds),
      decodeAndFeaturesMsPerImage: r((featureSeconds * 1000) / items.length),
      trainingSeconds: r(trainSeconds),
      trainingImages: train.length,
      inferenceMsPerImage: inference,
    },
    calibratedShift: r(shift),
    quality: qualities,
    summary: [
      { figure: `training (${train.length} images, features on ${items.length})`, value: `${trainSeconds.toFixed(1)} s model + ${featureSeconds.toFixed(1)} s decode/features (4 at a time)` },
      { figure: `held-out (${held.n} images, other patients)`, value: `AUC ${held.auc.toFixed(3)}, accuracy ${held.accuracy.toFixed(3)}, sensitivity ${held.sensitivity.toFixed(3)}, specificity ${held.specificity.toFixed(3)}` },
      { figure: 'held-out at the uncalibrated threshold', value: `accuracy ${qualities.heldOutUncalibrated.accuracy.toFixed(3)}, sensitivity ${qualities.heldOutUncalibrated.sensitivity.toFixed(3)}, specificity ${qualities.heldOutUncalibrated.specificity.toFixed(3)}` },
      { figure: 'inference incl. decode (224 px JPEG)', value: `p50 ${inference.p50.toFixed(2)} ms, p95 ${inference.p95.toFixed(2)} ms per image` },
    ],
  };
}

async function viaEmulator(values: ReturnType<typeof cliValues>): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pneumo-bench-'));
  const localS3 = await startLocalS3({ port: 0, directory: join(root, 's3'), buckets: ['bench'], onObjectCreated: () => undefined });
  const s3 = new S3Client({ endpoint: localS3.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: LOCAL_CREDENTIALS });
  const emulator = await startRekognitionEmulator({ s3, dataDir: join(root, 'rekognition'), startingDelayMs: 100 });
  const client = new rk.RekognitionClient({ endpoint: emulator.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  try {
    let files = LABELS.flatMap((name) => readdirSync(join(values.data, name)).sort().map((file) => ({ name, file })));
    const limit = Number(values.limit);
    if (limit > 0) files = files.filter((_, i) => i % Math.ceil(files.length / limit) === 0);
    let t = performance.now();
    // Neutral keys: the emulator never sees the class in a path.
    const keys = await pool(files.map((f, index) => ({ ...f, index })), 16, async ({ name, file, index }) => {
      const key = `images/${String(index).padStart(5, '0')}.jpeg`;
      await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: key, Body: readFileSync(join(values.data, name, file)) }));
      return { key, name };
    });
    const manifest = keys.map(({ key, name }) => JSON.stringify({ 'source-ref': `s3://bench/${key}`, 'xray-class': LABELS.indexOf(name), 'xray-class-metadata': { 'class-name': name, type: 'groundtruth/image-classification', confidence: 1 } }));
    await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: 'train.manifest', Body: manifest.join('\n') }));
    console.log(`uploaded ${files.length} images to the local S3 in ${((performance.now() - t) / 1000).toFixed(1)} s`);

    const { ProjectArn } = await client.send(new rk.CreateProjectCommand({ ProjectName: 'bench' }));
    t = performance.now();
    const { ProjectVersionArn } = await client.send(
      new rk.CreateProjectVersionCommand({
        ProjectArn,
        VersionName: 'v1',
        OutputConfig: { S3Bucket: 'bench', S3KeyPrefix: 'output' },
        TrainingData: { Assets: [{ GroundTruthManifest: { S3Object: { Bucket: 'bench', Name: 'train.manifest' } } }] },
        TestingData: { AutoCreate: true },
      }),
    );
    let slowest = 0;
    let description: ProjectVersionDescription | undefined;
    let lastMessage = '';
    for (;;) {
      const asked = performance.now();
      const response = await client.send(new rk.DescribeProjectVersionsCommand({ ProjectArn, VersionNames: ['v1'] }));
      slowest = Math.max(slowest, performance.now() - asked);
      description = response.ProjectVersionDescriptions?.[0];
      if (description?.StatusMessage && description.StatusMessage !== lastMessage && !/epoch \d*[1-9]\//.test(description.StatusMessage)) {
        lastMessage = description.StatusMessage;
        console.log(`  [${((performance.now() - t) / 1000).toFixed(1)} s] ${description.Status}: ${lastMessage}`);
      }
      if (description?.Status !== 'TRAINING_IN_PROGRESS') break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    console.log(`training via the emulator: ${((performance.now() - t) / 1000).toFixed(1)} s -> ${description?.Status}; F1 ${description?.EvaluationResult?.F1Score?.toFixed(4)}; slowest DescribeProjectVersions during training ${slowest.toFixed(0)} ms`);
    const summaryObject = description?.EvaluationResult?.Summary?.S3Object;
    if (summaryObject) {
      const body = await s3.send(new GetObjectCommand({ Bucket: summaryObject.Bucket, Key: summaryObject.Name }));
      console.log(await body.Body?.transformToString());
    }
    await client.send(new rk.StartProjectVersionCommand({ ProjectVersionArn, MinInferenceUnits: 1 }));
    while ((await client.send(new rk.DescribeProjectVersionsCommand({ ProjectArn, VersionNames: ['v1'] }))).ProjectVersionDescriptions?.[0]?.Status !== 'RUNNING') {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const sample = keys.filter((_, i) => i % Math.ceil(keys.length / Number(values.detections)) === 0);
    for (const mode of ['Bytes', 'S3Object'] as const) {
      const times: number[] = [];
      for (const { key } of sample) {
        const object = mode === 'Bytes' ? await s3.send(new GetObjectCommand({ Bucket: 'bench', Key: key })) : undefined;
        const image = object?.Body ? { Bytes: await object.Body.transformToByteArray() } : { S3Object: { Bucket: 'bench', Name: key } };
        const asked = performance.now();
        await client.send(new rk.DetectCustomLabelsCommand({ ProjectVersionArn, Image: image, MinConfidence: 0 }));
        times.push(performance.now() - asked);
      }
      times.sort((a, b) => a - b);
      const at = (q: number): string => (times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0).toFixed(1);
      console.log(`DetectCustomLabels (${mode}, 224 px JPEG, ${times.length} calls, sequential): mean ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)} ms, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms`);
    }
    // Throughput with several callers at once (like the classify Lambda's reserved concurrency locally).
    for (const width of [4, 8]) {
      const started = performance.now();
      await pool(sample, width, async ({ key }) => client.send(new rk.DetectCustomLabelsCommand({ ProjectVersionArn, Image: { S3Object: { Bucket: 'bench', Name: key } }, MinConfidence: 0 })));
      const elapsed = performance.now() - started;
      console.log(`DetectCustomLabels (S3Object, ${width} concurrent callers, ${sample.length} calls): ${((sample.length * 1000) / elapsed).toFixed(0)} calls/s, ${(elapsed / sample.length).toFixed(1)} ms per call amortised`);
    }
    // Original-resolution uploads (1–2 k px, up to 1 MB), if the data folder has them next to train/.
    const fullres = join(values.data, '..', 'fullres');
    const originals = LABELS.flatMap((name) => {
      try {
        return readdirSync(join(fullres, name)).map((file) => join(fullres, name, file));
      } catch {
        return [];
      }
    });
    if (originals.length > 0) {
      const times: number[] = [];
      for (const [i, path] of originals.entries()) {
        await s3.send(new PutObjectCommand({ Bucket: 'bench', Key: `fullres/${i}.jpeg`, Body: readFileSync(path) }));
        const asked = performance.now();
        await client.send(new rk.DetectCustomLabelsCommand({ ProjectVersionArn, Image: { S3Object: { Bucket: 'bench', Name: `fullres/${i}.jpeg` } }, MinConfidence: 0 }));
        times.push(performance.now() - asked);
      }
      times.sort((a, b) => a - b);
      console.log(`DetectCustomLabels (S3Object, original resolution, ${times.length} calls): mean ${(times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)} ms, max ${(times.at(-1) ?? 0).toFixed(1)} ms`);
    }
  } finally {
    client.destroy();
    await emulator.close();
    s3.destroy();
    await localS3.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const values = cliValues();
  if (values['via-emulator']) {
    await viaEmulator(values);
  } else {
    const result = await runModelBench({
      data: values.data,
      limit: Number(values.limit),
      splitSeed: Number(values['split-seed']),
      hidden: Number(values.hidden),
      epochs: Number(values.epochs),
      l2: Number(values.l2),
      learningRate: Number(values.lr),
    });
    if (result.skipped) console.log(`skipped: ${result.skipped}`);
  }
}
