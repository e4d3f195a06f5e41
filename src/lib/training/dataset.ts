import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { DatasetError } from '../errors.js';

/** Image formats Custom Labels trains on. */
const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'];
/** A label is a folder name under the training root: what Custom Labels and the manifests accept. */
export const LABEL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** The attribute of each manifest line that holds the class; its `-metadata` twin names the class. */
export const CLASS_ATTRIBUTE = 'pneumo-class';
export const MANIFEST_PREFIX = 'manifests/';

export interface LabelledImage {
  readonly key: string;
  readonly label: string;
}

export interface DatasetListing {
  readonly images: readonly LabelledImage[];
  readonly counts: Readonly<Record<string, number>>;
  /** Objects under the prefix that are not `<prefix><LABEL>/<…>.jpg|jpeg|png`. */
  readonly ignored: number;
}

function labelOf(prefix: string, key: string): string | undefined {
  if (key.endsWith('/')) return undefined;
  const rest = key.slice(prefix.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  const extension = key.slice(key.lastIndexOf('.')).toLowerCase();
  return IMAGE_EXTENSIONS.includes(extension) ? rest.slice(0, slash) : undefined;
}

/** Lists every `<prefix><LABEL>/…` image, the label being the first folder under the prefix. */
export async function listDataset(s3: S3Client, bucket: string, prefix: string): Promise<DatasetListing> {
  const images: LabelledImage[] = [];
  const counts: Record<string, number> = {};
  let ignored = 0;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const key = object.Key;
      const label = key === undefined ? undefined : labelOf(prefix, key);
      if (key === undefined || label === undefined || (object.Size ?? 0) === 0) {
        ignored += 1;
        continue;
      }
      if (!LABEL_NAME.test(label)) {
        throw new DatasetError(`folder "${prefix}${label}/" is not a usable label name (letters, digits, "_" or "-", at most 64)`);
      }
      images.push({ key, label });
      counts[label] = (counts[label] ?? 0) + 1;
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { images, counts, ignored };
}

/** Refuses a training set the service would reject or learn nothing useful from, naming what is missing. */
export function checkTrainingSet(listing: DatasetListing, prefix: string, minPerLabel: number, positiveLabel: string): void {
  const labels = Object.keys(listing.counts).sort();
  if (labels.length < 2) {
    throw new DatasetError(
      `found ${labels.length === 0 ? 'no labelled images' : `only the label ${labels.join('')}`} under ${prefix}; ` +
        `put images in at least two folders such as ${prefix}NORMAL/ and ${prefix}${positiveLabel}/`,
    );
  }
  if (!labels.includes(positiveLabel)) {
    throw new DatasetError(`no ${prefix}${positiveLabel}/ folder: the gate needs the ${positiveLabel} label's recall`);
  }
  const short = labels.filter((label) => (listing.counts[label] ?? 0) < minPerLabel);
  if (short.length > 0) {
    const detail = short.map((label) => `${label}: ${listing.counts[label] ?? 0}`).join(', ');
    throw new DatasetError(`too few images per label under ${prefix} (at least ${minPerLabel} needed; ${detail})`);
  }
}

/** The test set must use exactly the training labels, each at least once. */
export function checkTestingSet(testing: DatasetListing, prefix: string, trainingLabels: readonly string[]): void {
  const labels = Object.keys(testing.counts).sort();
  const extra = labels.filter((label) => !trainingLabels.includes(label));
  const missing = trainingLabels.filter((label) => !labels.includes(label));
  if (extra.length > 0 || missing.length > 0) {
    throw new DatasetError(
      `test set under ${prefix} must have the training labels (${trainingLabels.join(', ')})` +
        `${missing.length ? `; missing ${missing.join(', ')}` : ''}${extra.length ? `; not in training ${extra.join(', ')}` : ''}`,
    );
  }
}

/**
 * One SageMaker Ground Truth image-classification line per image: `source-ref`, the class index, and the
 * `-metadata` object whose `class-name` is the label Rekognition will return.
 */
export function manifestLines(bucket: string, images: readonly LabelledImage[], labels: readonly string[], jobName: string, createdAt: string): string {
  // Ground Truth writes creation dates without a zone designator.
  const creationDate = createdAt.replace(/Z$/, '');
  return images
    .map((image) =>
      JSON.stringify({
        'source-ref': `s3://${bucket}/${image.key}`,
        [CLASS_ATTRIBUTE]: labels.indexOf(image.label),
        [`${CLASS_ATTRIBUTE}-metadata`]: {
          confidence: 1,
          'class-name': image.label,
          'human-annotated': 'yes',
          'creation-date': creationDate,
          type: 'groundtruth/image-classification',
          'job-name': jobName,
        },
      }),
    )
    .join('\n')
    .concat('\n');
}

export async function writeManifest(s3: S3Client, bucket: string, key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
}
