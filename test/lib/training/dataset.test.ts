import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { DatasetError } from '../../../src/lib/errors.js';
import { checkTestingSet, checkTrainingSet, listDataset, manifestLines } from '../../../src/lib/training/dataset.js';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-west-1' });

afterEach(() => {
  s3Mock.reset();
});

describe('listDataset', () => {
  it('labels images by their first folder, follows pages and skips what is not a labelled image', async () => {
    s3Mock
      .on(ListObjectsV2Command, { ContinuationToken: undefined })
      .resolves({ IsTruncated: true, NextContinuationToken: 't2', Contents: [{ Key: 'training/NORMAL/a.jpeg', Size: 5 }, { Key: 'training/NORMAL/', Size: 0 }, { Key: 'training/loose.jpeg', Size: 5 }] })
      .on(ListObjectsV2Command, { ContinuationToken: 't2' })
      .resolves({ IsTruncated: false, Contents: [{ Key: 'training/PNEUMONIA/deep/b.PNG', Size: 5 }, { Key: 'training/PNEUMONIA/notes.txt', Size: 5 }, { Key: 'training/PNEUMONIA/empty.jpg', Size: 0 }] });
    const listing = await listDataset(s3, 'bucket', 'training/');
    expect(listing).toEqual({
      images: [{ key: 'training/NORMAL/a.jpeg', label: 'NORMAL' }, { key: 'training/PNEUMONIA/deep/b.PNG', label: 'PNEUMONIA' }],
      counts: { NORMAL: 1, PNEUMONIA: 1 },
      ignored: 4,
    });
    expect(s3Mock).toHaveReceivedCommandTimes(ListObjectsV2Command, 2);
  });

  it('refuses a label folder name the manifest cannot carry', async () => {
    s3Mock.on(ListObjectsV2Command).resolves({ Contents: [{ Key: 'training/bad label/a.jpeg', Size: 5 }] });
    await expect(listDataset(s3, 'bucket', 'training/')).rejects.toThrow('"training/bad label/" is not a usable label name');
  });
});

describe('checkTrainingSet and checkTestingSet', () => {
  const listing = (counts: Record<string, number>): { images: never[]; counts: Record<string, number>; ignored: number } => ({ images: [], counts, ignored: 0 });

  it.each([
    [{}, 'found no labelled images under training/'],
    [{ PNEUMONIA: 20 }, 'found only the label PNEUMONIA'],
    [{ NORMAL: 20, VIRAL: 20 }, 'no training/PNEUMONIA/ folder'],
    [{ NORMAL: 20, PNEUMONIA: 3 }, 'too few images per label under training/ (at least 10 needed; PNEUMONIA: 3)'],
  ])('refuses %j', (counts, message) => {
    expect(() => { checkTrainingSet(listing(counts), 'training/', 10, 'PNEUMONIA'); }).toThrow(DatasetError);
    expect(() => { checkTrainingSet(listing(counts), 'training/', 10, 'PNEUMONIA'); }).toThrow(message);
  });

  it('accepts two labels with enough images each', () => {
    expect(() => { checkTrainingSet(listing({ NORMAL: 10, PNEUMONIA: 10 }), 'training/', 10, 'PNEUMONIA'); }).not.toThrow();
  });

  it('needs the test set to have exactly the training labels', () => {
    expect(() => { checkTestingSet(listing({ NORMAL: 1 }), 'testing/', ['NORMAL', 'PNEUMONIA']); }).toThrow('missing PNEUMONIA');
    expect(() => { checkTestingSet(listing({ NORMAL: 1, PNEUMONIA: 1, VIRAL: 1 }), 'testing/', ['NORMAL', 'PNEUMONIA']); }).toThrow('not in training VIRAL');
    expect(() => { checkTestingSet(listing({ NORMAL: 1, PNEUMONIA: 1 }), 'testing/', ['NORMAL', 'PNEUMONIA']); }).not.toThrow();
  });
});

describe('manifestLines', () => {
  it('writes one Ground Truth image-classification line per image', () => {
    const text = manifestLines('bucket', [{ key: 'training/PNEUMONIA/x ray.jpeg', label: 'PNEUMONIA' }], ['NORMAL', 'PNEUMONIA'], 'pneumo/v1', '2026-11-25T10:00:00.000Z');
    expect(text.endsWith('\n')).toBe(true);
    expect(JSON.parse(text)).toEqual({
      'source-ref': 's3://bucket/training/PNEUMONIA/x ray.jpeg',
      'pneumo-class': 1,
      'pneumo-class-metadata': {
        confidence: 1,
        'class-name': 'PNEUMONIA',
        'human-annotated': 'yes',
        'creation-date': '2026-11-25T10:00:00.000',
        type: 'groundtruth/image-classification',
        'job-name': 'pneumo/v1',
      },
    });
  });
});
