/*
 * Model quality and speed on the real data (needs /work/shared/data/chest-xray or DATA_DIR; not part of CI).
 *   npx tsx bench/model.ts [--hidden 0] [--epochs 30] [--split-seed 1]     the model alone, patient-disjoint split
 *   npx tsx bench/model.ts --via-emulator [--limit N]                     the whole path through the emulator
 * --via-emulator: s3rver + the emulator on free ports, every image uploaded with a Ground Truth manifest,
 * CreateProjectVersion (TestingData AutoCreate) timed to TRAINING_COMPLETED, the longest DescribeProjectVersions
 * answer during training (responsiveness), then DetectCustomLabels latency (Bytes and S3Object, real SDK).
 * Held-out split: 20 % of PATIENTS (not images) per class, so no patient's other images leak into training.
 * The patient id is taken from the file name here only to group the split; the model never sees names.
 * Inside the training 80 %, a further 15 % of patients is the validation set that calibrates the threshold.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as rk from '@aws-sdk/client-rekognition';
import type { ProjectVersionDescription } from '@aws-sdk/client-rekognition';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { startRekognitionEmulator } from '../src/local/rekognition/index.js';
import { decodeToPixels, extractFeatures, FEATURE_LENGTH } from '../src/local/rekognition/features.js';
import { calibrateShift, DEFAULT_TRAIN_OPTIONS, logitsOf, rocAuc, seededRandom, trainModel } from '../src/local/rekognition/model.js';

const { values } = parseArgs({
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
});

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

function report(name: string, margins: number[], items: readonly Item[], shift: number): void {
  const positive = items.map((i) => i.label === 1);
  let tp = 0, tn = 0, fp = 0, fn = 0;
  margins.forEach((m, i) => {
    const predicted = m + shift > 0;
    if (predicted && positive[i]) tp++;
    else if (predicted) fp++;
    else if (positive[i]) fn++;
    else tn++;
  });
  const fmt = (x: number): string => x.toFixed(4);
  console.log(
    `${name}: n=${items.length} AUC=${fmt(rocAuc(margins, positive))} accuracy=${fmt((tp + tn) / items.length)} ` +
      `sensitivity=${fmt(tp / (tp + fn))} specificity=${fmt(tn / (tn + fp))} (tp ${tp} fn ${fn} tn ${tn} fp ${fp})`,
  );
}

async function main(): Promise<void> {
  let items: Item[] = LABELS.flatMap((name, label) => readdirSync(join(values.data, name)).sort().map((file) => ({ file: join(name, file), label, patient: patientOf(file) })));
  const limit = Number(values.limit);
  if (limit > 0) items = items.filter((_, i) => i % Math.ceil(items.length / limit) === 0);
  const [trainAll, test] = splitByPatient(items, 0.2, Number(values['split-seed']));
  const [train, validation] = splitByPatient(trainAll, 0.15, Number(values['split-seed']) + 1000);
  console.log(`images ${items.length}: train ${train.length}, validation ${validation.length}, held-out test ${test.length}; features ${FEATURE_LENGTH}`);

  let t = performance.now();
  const featureOf = async (item: Item): Promise<Float32Array> => extractFeatures(await decodeToPixels(readFileSync(join(values.data, item.file))));
  const trainRows = await pool(train, 4, featureOf);
  const validationRows = await pool(validation, 4, featureOf);
  const testRows = await pool(test, 4, featureOf);
  const featureSeconds = (performance.now() - t) / 1000;
  console.log(`decode + features: ${featureSeconds.toFixed(1)} s (${((featureSeconds * 1000) / items.length).toFixed(2)} ms/image)`);

  t = performance.now();
  const model = trainModel(trainRows, train.map((i) => i.label), 2, {
    ...DEFAULT_TRAIN_OPTIONS,
    hidden: Number(values.hidden),
    epochs: Number(values.epochs),
    l2: Number(values.l2),
    learningRate: Number(values.lr),
    onEpoch: (epoch, _epochs, loss) => {
      if (epoch % 5 === 0) console.log(`  epoch ${epoch} loss ${loss.toFixed(4)}`);
    },
  });
  const trainSeconds = (performance.now() - t) / 1000;
  const margin = (row: Float32Array): number => {
    const l = logitsOf(model, row);
    return (l[1] ?? 0) - (l[0] ?? 0);
  };
  const validationMargins = validationRows.map(margin);
  const shift = calibrateShift(validationMargins, validation.map((i) => i.label === 1), 5);
  console.log(`training: ${trainSeconds.toFixed(1)} s; calibrated shift ${shift.toFixed(3)}`);
  report('train     ', trainRows.map(margin), train, shift);
  report('validation', validationMargins, validation, shift);
  report('held-out  ', testRows.map(margin), test, shift);
  report('held-out @0', testRows.map(margin), test, 0);
}

async function viaEmulator(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'pneumo-bench-'));
  const s3rver = new S3rver({ address: '127.0.0.1', port: 0, directory: join(root, 's3'), silent: true, configureBuckets: [{ name: 'bench' }] });
  const address = await s3rver.run();
  const s3 = new S3Client({ endpoint: `http://127.0.0.1:${address.port}`, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
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
    console.log(`uploaded ${files.length} images to s3rver in ${((performance.now() - t) / 1000).toFixed(1)} s`);

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
    await s3rver.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await (values['via-emulator'] ? viaEmulator() : main());
