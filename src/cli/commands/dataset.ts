import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { DATASET_ROOTS } from '../../lib/training/input.js';
import { isFromReview } from '../../review/images.js';
import type { CommandContext } from '../context.js';
import { eachLimited } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import type { ExitCode } from '../errors.js';
import type { Format } from '../format.js';
import { bytes, printJson, printLines, renderCsv, renderTable } from '../format.js';
import { findImages, NOT_AN_IMAGE } from '../file-walk.js';
import type { Skipped } from '../file-walk.js';
import { checkImageFile, keyTooLong, looksLikeImage } from '../image-file.js';
import { ProgressBar } from '../progress.js';
import type { Target } from '../target.js';

/** The label rule of the training Lambda's dataset listing (src/lib/training/dataset.ts). */
const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** Kaggle's split folders: train and val are training data, test is the held-out testing set. */
const SPLITS: Readonly<Record<string, 'training/' | 'testing/'>> = { train: 'training/', val: 'training/', test: 'testing/' };

export interface PlannedFile {
  readonly file: string;
  readonly key: string;
  readonly root: string;
  readonly label: string;
}

export interface DatasetPlan {
  readonly layout: 'labels' | 'splits';
  readonly files: readonly PlannedFile[];
  /** Files in the tree that are not images (e.g. .DS_Store), left alone. */
  readonly ignored: readonly string[];
  /** Links that lead nowhere or loop, unreadable folders: reported, and the exit code is 1 if an image may be missing. */
  readonly skipped: readonly Skipped[];
}

/** Folders in `dir`, symbolic links to folders included (a label folder is often a link into a data disk). */
async function subdirectories(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names: string[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith('.') || entry.name.startsWith('__')) continue;
    const isFolder = entry.isSymbolicLink() ? await stat(join(dir, entry.name)).then((info) => info.isDirectory(), () => false) : entry.isDirectory();
    if (isFolder) names.push(entry.name);
  }
  return names.sort();
}

async function labelFolder(root: string, dir: string, label: string, planned: PlannedFile[], skipped: Skipped[]): Promise<void> {
  if (!LABEL_NAME.test(label)) throw new UsageError(`folder ${dir} is not a usable label name (letters, digits, "_" or "-", at most 64)`);
  const found = await findImages(dir);
  for (const file of found.images) planned.push({ file, key: `${root}${label}/${relative(dir, file).split(sep).join('/')}`, root, label });
  skipped.push(...found.skipped);
}

/**
 * Reads a local dataset laid out like the Kaggle chest X-ray set: `<dir>/<LABEL>/…` goes to `training/<LABEL>/…`;
 * `<dir>/train|val|test/<LABEL>/…` sends train and val to `training/<LABEL>/…` and test to `testing/<LABEL>/…`
 * (the held-out set `pneumo retrain --testing-prefix testing/` evaluates on).
 */
export async function planDataset(dir: string): Promise<DatasetPlan> {
  let folders: string[];
  try {
    folders = await subdirectories(dir);
  } catch {
    throw new UsageError(`${dir} is not a readable directory`);
  }
  const planned: PlannedFile[] = [];
  const skipped: Skipped[] = [];
  const splits = folders.filter((name) => SPLITS[name.toLowerCase()] !== undefined);
  let layout: DatasetPlan['layout'];
  if (splits.length > 0) {
    layout = 'splits';
    for (const split of splits) {
      const root = SPLITS[split.toLowerCase()] ?? 'training/';
      for (const label of await subdirectories(join(dir, split))) await labelFolder(root, join(dir, split, label), label, planned, skipped);
    }
  } else {
    layout = 'labels';
    for (const label of folders) await labelFolder('training/', join(dir, label), label, planned, skipped);
  }
  if (planned.length === 0) {
    throw new UsageError(`no images found in ${dir}: expected <dir>/<LABEL>/*.jpeg (e.g. NORMAL/, PNEUMONIA/) or <dir>/train|val|test/<LABEL>/*.jpeg`);
  }
  const seen = new Map<string, string>();
  for (const file of planned) {
    const earlier = seen.get(file.key);
    if (earlier !== undefined) throw new UsageError(`${earlier} and ${file.file} would both be uploaded as ${file.key}; rename one`);
    seen.set(file.key, file.file);
  }
  return {
    layout,
    files: planned.sort((a, b) => a.key.localeCompare(b.key)),
    ignored: skipped.filter((entry) => entry.why === NOT_AN_IMAGE).map((entry) => entry.path),
    skipped: skipped.filter((entry) => entry.why !== NOT_AN_IMAGE),
  };
}

interface Existing {
  readonly eTag: string;
  readonly size: number;
}

async function listExisting(target: Target, prefix: string): Promise<Map<string, Existing>> {
  const found = new Map<string, Existing>();
  let token: string | undefined;
  do {
    const page = await target.clients.s3.send(new ListObjectsV2Command({ Bucket: target.names.bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      if (object.Key) found.set(object.Key, { eTag: (object.ETag ?? '').replace(/"/g, ''), size: object.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/**
 * True when the stored object has these bytes. A single-part upload's ETag is the MD5 of its bytes, except
 * under SSE-KMS (the deployed bucket's default): there the MD5 this command stores as metadata decides, read
 * with a HEAD only for objects of the same size.
 */
async function sameObject(target: Target, key: string, existing: Existing | undefined, md5: string, size: number): Promise<boolean> {
  if (!existing) return false;
  if (existing.eTag === md5) return true;
  if (existing.size !== size) return false;
  const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: target.names.bucket, Key: key }));
  return head.Metadata?.md5 === md5;
}

export interface LabelTally {
  readonly prefix: string;
  readonly label: string;
  uploaded: number;
  skipped: number;
  refused: number;
}

export interface UploadReport {
  readonly layout: DatasetPlan['layout'];
  readonly uploaded: number;
  readonly skipped: number;
  readonly bytesUploaded: number;
  /** Files classify would reject, and files that could not be read (reason `unreadable` or `not-a-regular-file`). */
  readonly refused: readonly { readonly file: string; readonly reason: string; readonly detail: string }[];
  readonly byLabel: readonly LabelTally[];
  readonly dryRun: boolean;
}

/** `pneumo dataset upload <dir>`. */
export async function datasetUpload(
  ctx: CommandContext,
  dir: string,
  options: { readonly concurrency: number; readonly dryRun: boolean; readonly format: Format; readonly signal?: AbortSignal | undefined },
): Promise<ExitCode> {
  const { io, target } = ctx;
  const plan = await planDataset(dir);
  for (const entry of plan.skipped) io.err(`skipped ${entry.path}: ${entry.why}`);
  const roots = [...new Set(plan.files.map((file) => file.root))];
  io.err(`${plan.files.length} image(s) in ${dir} (${plan.layout === 'splits' ? 'train/val → training/, test → testing/' : '<LABEL>/ → training/<LABEL>/'}); comparing with s3://${target.names.bucket}/${roots.join(', ')}`);
  const existing = new Map<string, Existing>();
  for (const root of roots) for (const [key, value] of await listExisting(target, root)) existing.set(key, value);

  const tallies = new Map<string, LabelTally>();
  const tally = (file: PlannedFile): LabelTally => {
    const id = `${file.root}${file.label}`;
    let entry = tallies.get(id);
    if (!entry) {
      entry = { prefix: file.root, label: file.label, uploaded: 0, skipped: 0, refused: 0 };
      tallies.set(id, entry);
    }
    return entry;
  };
  const refused: { file: string; reason: string; detail: string }[] = [];
  let uploaded = 0;
  let skipped = 0;
  let sent = 0;
  const bar = new ProgressBar(io, options.dryRun ? 'comparing' : 'uploading', plan.files.length, ctx.now);
  const work = eachLimited(plan.files, options.concurrency, async (file) => {
    const tooLong = keyTooLong(file.key);
    const checked = tooLong === undefined ? await checkImageFile(file.file) : { kind: 'refused' as const, reason: 'key-too-long', detail: tooLong };
    if (checked.kind !== 'image') {
      // A file that cannot be read (or named) is reported like a rejected one and the others still go up.
      refused.push({ file: file.file, reason: checked.reason, detail: checked.detail });
      tally(file).refused += 1;
      bar.log(`refused ${file.file}: ${checked.reason} (${checked.detail})`);
    } else {
      const { body } = checked;
      const digest = createHash('md5').update(body);
      const md5 = digest.copy().digest('hex');
      if (await sameObject(target, file.key, existing.get(file.key), md5, body.length)) {
        skipped += 1;
        tally(file).skipped += 1;
      } else {
        if (!options.dryRun) {
          await target.clients.s3.send(
            new PutObjectCommand({
              Bucket: target.names.bucket,
              Key: file.key,
              Body: body,
              ContentType: checked.image.format === 'png' ? 'image/png' : 'image/jpeg',
              // S3 checks the bytes against it; the metadata lets a later upload recognise them under SSE-KMS.
              ContentMD5: digest.digest('base64'),
              Metadata: { md5 },
            }),
          );
        }
        uploaded += 1;
        sent += body.length;
        tally(file).uploaded += 1;
      }
    }
    bar.tick(1, `${uploaded} new, ${skipped} already there`);
  }, options.signal);
  try {
    await work;
  } catch (error) {
    bar.finish();
    if (!options.dryRun) io.err(`uploaded ${uploaded} image(s) to s3://${target.names.bucket}/ before an error stopped the rest; run the command again to continue (images already there are skipped)`);
    throw error;
  }
  bar.finish();
  const report: UploadReport = {
    layout: plan.layout,
    uploaded,
    skipped,
    bytesUploaded: sent,
    refused,
    byLabel: [...tallies.values()].sort((a, b) => `${a.prefix}${a.label}`.localeCompare(`${b.prefix}${b.label}`)),
    dryRun: options.dryRun,
  };
  io.err(
    `${options.dryRun ? 'would upload' : 'uploaded'} ${uploaded} image(s) (${bytes(sent)}) to s3://${target.names.bucket}/; ` +
      `skipped ${skipped} already there with the same content${refused.length ? `; refused ${refused.length} that are not usable images` : ''}` +
      (plan.ignored.length ? `; ignored ${plan.ignored.length} non-image file(s)` : ''),
  );
  if (options.format === 'json') printJson(io, report);
  else if (options.format === 'csv') {
    printLines(io, renderCsv(report.byLabel, [
      { header: 'prefix', value: (t) => t.prefix },
      { header: 'label', value: (t) => t.label },
      { header: 'uploaded', value: (t) => t.uploaded },
      { header: 'skipped', value: (t) => t.skipped },
      { header: 'refused', value: (t) => t.refused },
    ]));
  } else {
    printLines(io, renderTable(report.byLabel, [
      { header: 'PREFIX', value: (t) => `${t.prefix}${t.label}/` },
      { header: options.dryRun ? 'TO UPLOAD' : 'UPLOADED', value: (t) => String(t.uploaded), align: 'right' },
      { header: 'ALREADY THERE', value: (t) => String(t.skipped), align: 'right' },
      { header: 'REFUSED', value: (t) => String(t.refused), align: 'right' },
    ]));
  }
  if (options.signal?.aborted) {
    io.err(`interrupted after ${uploaded + skipped + refused.length} of ${plan.files.length} image(s); run the command again to continue (images already there are skipped)`);
    return EXIT.interrupted;
  }
  return refused.length > 0 || plan.skipped.some((entry) => entry.missing) ? EXIT.failed : EXIT.ok;
}

export interface LabelCount {
  readonly prefix: string;
  readonly label: string;
  readonly images: number;
  readonly bytes: number;
  /** Of `images`, those a reviewer added from the review page (`training/<LABEL>/from-review/`). */
  readonly fromReview: number;
}

/** `pneumo dataset stats`: images per label under training/ and testing/ (and how many came from review), from an S3 listing. */
export async function datasetStats(ctx: CommandContext, options: { readonly format: Format }): Promise<ExitCode> {
  const counts = new Map<string, LabelCount & { images: number; bytes: number; fromReview: number }>();
  let other = 0;
  for (const root of DATASET_ROOTS) {
    for (const [key, object] of await listExisting(ctx.target, root)) {
      const rest = key.slice(root.length);
      const slash = rest.indexOf('/');
      if (slash <= 0 || !looksLikeImage(key) || object.size === 0) {
        other += 1;
        continue;
      }
      const label = rest.slice(0, slash);
      const id = `${root}${label}`;
      const entry = counts.get(id) ?? { prefix: root, label, images: 0, bytes: 0, fromReview: 0 };
      entry.images += 1;
      entry.bytes += object.size;
      if (isFromReview(key)) entry.fromReview += 1;
      counts.set(id, entry);
    }
  }
  const rows = [...counts.values()].sort((a, b) => `${a.prefix}${a.label}`.localeCompare(`${b.prefix}${b.label}`));
  if (options.format === 'json') printJson(ctx.io, rows);
  else if (options.format === 'csv') {
    printLines(ctx.io, renderCsv(rows, [
      { header: 'prefix', value: (r) => r.prefix },
      { header: 'label', value: (r) => r.label },
      { header: 'images', value: (r) => r.images },
      { header: 'bytes', value: (r) => r.bytes },
      { header: 'from_review', value: (r) => r.fromReview },
    ]));
  } else if (rows.length === 0) {
    ctx.io.err(`no training or testing images in s3://${ctx.target.names.bucket}/ (pneumo dataset upload <dir>)`);
  } else {
    printLines(ctx.io, renderTable(rows, [
      { header: 'PREFIX', value: (r) => r.prefix },
      { header: 'LABEL', value: (r) => r.label },
      { header: 'IMAGES', value: (r) => String(r.images), align: 'right' },
      { header: 'SIZE', value: (r) => bytes(r.bytes), align: 'right' },
      { header: 'FROM REVIEW', value: (r) => String(r.fromReview), align: 'right' },
    ]));
  }
  if (other > 0) ctx.io.err(`${other} other object(s) under ${DATASET_ROOTS.join(' and ')} are not <LABEL>/ images and are not used for training`);
  return EXIT.ok;
}
