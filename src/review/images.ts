import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { CopyObjectCommand, DeleteObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import { readResultRow } from '../lib/result-row.js';
import type { ReviewFields } from './schemas.js';
import type { Row } from './review-table.js';

/*
 * The review page's S3 side: the X-ray streamed from the bucket to the browser (never to disk), and the copy of a
 * reviewed image into the training folders, made by S3 itself (no bytes through this machine).
 */

/** Folder inside `training/<LABEL>/` that holds the images added from review; `pneumo dataset stats` counts it. */
export const FROM_REVIEW_FOLDER = 'from-review';
export const TRAINING_ROOT = 'training/';

const CONTENT_TYPES: Readonly<Record<string, string>> = { jpeg: 'image/jpeg', png: 'image/png' };

export function contentTypeOf(row: Row): string | undefined {
  const { imageFormat } = readResultRow(row);
  return imageFormat === undefined ? undefined : CONTENT_TYPES[imageFormat];
}

/**
 * `training/<label>/from-review/<digest>.<ext>`: derived from the source key and version, so adding the same
 * image twice makes one object, and the name carries none of the key's (possibly identifying) folder names.
 */
export function trainingKeyFor(row: Row, label: string): string {
  const source = `${String(row.imageKey)}\n${readResultRow(row).objectVersionId ?? ''}`;
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 32);
  const extension = row.imageFormat === 'png' ? 'png' : 'jpeg';
  return `${TRAINING_ROOT}${label}/${FROM_REVIEW_FOLDER}/${digest}.${extension}`;
}

/** True for keys `training/<LABEL>/from-review/…`. */
export function isFromReview(key: string): boolean {
  const rest = key.startsWith(TRAINING_ROOT) ? key.slice(TRAINING_ROOT.length) : '';
  const parts = rest.split('/');
  return parts.length >= 3 && parts[1] === FROM_REVIEW_FOLDER;
}

/** S3 wants the copy source URL-encoded, slashes kept. */
function copySource(bucket: string, key: string, versionId: string | undefined): string {
  const encoded = key.split('/').map(encodeURIComponent).join('/');
  return `${bucket}/${encoded}${versionId ? `?versionId=${encodeURIComponent(versionId)}` : ''}`;
}

export class ReviewImages {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** The exact version the model answered (when the row knows it), as a stream. */
  async open(row: Row): Promise<{ body: Readable; length: number | undefined }> {
    const { objectVersionId: versionId } = readResultRow(row);
    const response = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: String(row.imageKey), ...(versionId ? { VersionId: versionId } : {}) }));
    if (!response.Body) throw new Error('S3 returned no body');
    return { body: response.Body as Readable, length: response.ContentLength };
  }

  /**
   * Server-side copy to the training folder of the reviewed label. Metadata is replaced (the copy says where it
   * came from and who decided); encryption is left to the bucket's default (SSE-KMS on a deployed stage).
   */
  async copyToTraining(row: Row, review: ReviewFields): Promise<string> {
    const key = trainingKeyFor(row, review.reviewedLabel);
    const { objectVersionId: versionId } = readResultRow(row);
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: key,
        CopySource: copySource(this.bucket, String(row.imageKey), versionId),
        MetadataDirective: 'REPLACE',
        ContentType: contentTypeOf(row) ?? 'application/octet-stream',
        Metadata: {
          // Header values must be ASCII; keys may not be.
          'source-key': encodeURIComponent(String(row.imageKey)),
          'source-version-id': versionId ?? 'null',
          'reviewed-label': review.reviewedLabel,
          reviewer: encodeURIComponent(review.reviewer),
          'reviewed-at': review.reviewedAt,
          origin: 'review',
        },
      }),
    );
    return key;
  }

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
