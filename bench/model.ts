/*
 * Model quality and speed on the real data (needs /work/shared/data/chest-xray or DATA_DIR; not part of CI).
 *   npx tsx bench/model.ts [--hidden 64] [--epochs 40]
 * Held-out split: 20 % of PATIENTS (not images) per class, so no patient's other images leak into training.
 * The patient id is taken from the file name here only to group the split; the model never sees names.
 * Inside the training 80 %, a further 15 % of patients is the validation set that calibrates the threshold.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
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
  const shift = calibrateShift(validationMargins, validation.map((i) => i.label === 1));
  console.log(`training: ${trainSeconds.toFixed(1)} s; calibrated shift ${shift.toFixed(3)}`);
  report('train     ', trainRows.map(margin), train, shift);
  report('validation', validationMargins, validation, shift);
  report('held-out  ', testRows.map(margin), test, shift);
  report('held-out @0', testRows.map(margin), test, 0);
}

await main();
