import { CopyObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { isFromReview, ReviewImages, trainingKeyFor } from '../../src/review/images.js';
import { planWorklist, DEFAULT_PLAN } from '../../src/review/worklist.js';

describe('copy to training', () => {
  const row = { imageKey: 'inbox/ward 3/Müller+scan#1.jpeg', objectVersionId: 'v3.Lx_9', imageFormat: 'jpeg' };
  const review = { reviewedLabel: 'NORMAL', reviewer: 'arn:aws:sts::123456789012:assumed-role/Radiology/dr.jones@example.org', reviewedAt: '2026-12-01T09:00:00.000Z', agreement: 'CORRECTED' as const };

  it('asks S3 for a server-side copy of the exact version, metadata replaced, encryption left to the bucket', async () => {
    const s3 = mockClient(S3Client);
    s3.on(CopyObjectCommand).resolves({});
    const key = await new ReviewImages(new S3Client({ region: 'eu-west-1' }), 'bucket').copyToTraining(row, review);
    const input = s3.commandCalls(CopyObjectCommand)[0]?.args[0].input;
    expect(input).toEqual({
      Bucket: 'bucket',
      Key: key,
      CopySource: 'bucket/inbox/ward%203/M%C3%BCller%2Bscan%231.jpeg?versionId=v3.Lx_9',
      MetadataDirective: 'REPLACE',
      ContentType: 'image/jpeg',
      Metadata: {
        'source-key': 'inbox%2Fward%203%2FM%C3%BCller%2Bscan%231.jpeg',
        'source-version-id': 'v3.Lx_9',
        'reviewed-label': 'NORMAL',
        reviewer: encodeURIComponent(review.reviewer),
        'reviewed-at': review.reviewedAt,
        origin: 'review',
      },
    });
    expect(input).not.toHaveProperty('ServerSideEncryption');
    s3.restore();
  });

  it('derives one name per source key and version, without the key\'s folders, under the reviewed label', () => {
    const key = trainingKeyFor(row, 'NORMAL');
    expect(key).toMatch(/^training\/NORMAL\/from-review\/[0-9a-f]{32}\.jpeg$/);
    expect(trainingKeyFor(row, 'NORMAL')).toBe(key);
    expect(trainingKeyFor({ ...row, objectVersionId: 'v4' }, 'NORMAL')).not.toBe(key);
    expect(trainingKeyFor({ ...row, imageFormat: 'png' }, 'PNEUMONIA')).toMatch(/^training\/PNEUMONIA\/from-review\/[0-9a-f]{32}\.png$/);
    expect([key, 'training/NORMAL/a.jpeg', 'training/NORMAL/x/from-review/a.jpeg', 'testing/NORMAL/from-review/a.jpeg'].map(isFromReview)).toEqual([true, false, false, false]);
  });
});

describe('worklist plan', () => {
  it('needs review first, the positive label in bands from 100 down to the threshold, then the rest', () => {
    const plan = planWorklist({}, { ...DEFAULT_PLAN, threshold: 80 });
    expect(plan.map((s) => [s.index, s.value, s.status, s.confidence ? `${s.confidence.from}-${s.confidence.to}` : s.notLabel])).toEqual([
      ['byStatus', 'NEEDS_REVIEW', undefined, undefined],
      ['byLabel', 'PNEUMONIA', 'CLASSIFIED', '95-100'],
      ['byLabel', 'PNEUMONIA', 'CLASSIFIED', '90-95'],
      ['byLabel', 'PNEUMONIA', 'CLASSIFIED', '85-90'],
      ['byLabel', 'PNEUMONIA', 'CLASSIFIED', '80-85'],
      ['byStatus', 'CLASSIFIED', undefined, 'PNEUMONIA'],
      ['byStatus', 'PENDING', undefined, undefined],
      ['byStatus', 'REJECTED', undefined, undefined],
      ['byStatus', 'FAILED', undefined, undefined],
    ]);
    // A threshold that is not a multiple of the band still ends the last band there.
    expect(planWorklist({ status: 'CLASSIFIED', label: 'PNEUMONIA' }, { ...DEFAULT_PLAN, threshold: 87 }).map((s) => s.confidence)).toEqual([
      { from: 95, to: 100 },
      { from: 90, to: 95 },
      { from: 87, to: 90 },
    ]);
    expect(planWorklist({ label: 'NORMAL' }, { ...DEFAULT_PLAN, threshold: 80 })).toEqual([
      { index: 'byStatus', value: 'NEEDS_REVIEW', label: 'NORMAL' },
      { index: 'byLabel', value: 'NORMAL', status: 'CLASSIFIED' },
    ]);
    expect(planWorklist({ status: 'REJECTED', label: 'NORMAL' }, { ...DEFAULT_PLAN, threshold: 80 })).toEqual([]);
  });
});
