import { DeleteObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Target } from '../../src/cli/target.js';
import { ReviewRequestError } from '../../src/review/errors.js';
import type { ReviewService } from '../../src/review/service.js';
import { reviewServiceFor } from '../../src/review/service.js';
import { BUCKET, putResult, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';

/*
 * The decidable labels come from the site's data (active model, training/ folders, results), against dynalite
 * and the local S3: a site training BACTERIAL/NORMAL/VIRAL gets those, not a fixed NORMAL/PNEUMONIA.
 */

let servers: LocalServers;
let target: Target;
let clock = Date.parse('2026-12-01T10:00:00.000Z');
const folders: string[] = [];

function service(): ReviewService {
  return reviewServiceFor(target, { reviewer: 'dr-alice', threshold: 80, now: () => clock });
}

async function folder(label: string): Promise<void> {
  const key = `training/${label}/a.jpeg`;
  await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: 'x' }));
  folders.push(key);
}

async function registry(item: Record<string, unknown>): Promise<void> {
  await target.clients.documents.send(new PutCommand({ TableName: target.names.registryTable, Item: item }));
}

const metrics = (...labels: string[]): { label: string; f1: number }[] => labels.map((label) => ({ label, f1: 0.9 }));

beforeAll(async () => {
  servers = await startLocalServers();
  target = servers.target();
  await putResult(target, { imageKey: 'inbox/a.jpeg', status: 'NEEDS_REVIEW', label: 'VIRAL', confidence: 60, labels: [{ name: 'VIRAL', confidence: 60 }, { name: 'BACTERIAL', confidence: 40 }] });
  await putResult(target, { imageKey: 'inbox/b.jpeg', status: 'CLASSIFIED', label: 'NORMAL', confidence: 95, labels: [{ name: 'NORMAL', confidence: 95 }] });
});

afterEach(async () => {
  for (const key of folders.splice(0)) await target.clients.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
  for (const id of ['active', 'version#v1', 'version#v2']) await target.clients.documents.send(new DeleteCommand({ TableName: target.names.registryTable, Key: { id } }));
});

afterAll(async () => {
  target.close();
  await servers.stop();
});

describe('decidable labels', () => {
  it('with neither a model nor training folders: the labels the results carry, NORMAL and the positive label, sorted', async () => {
    expect(await service().labelChoices()).toEqual(['BACTERIAL', 'NORMAL', 'PNEUMONIA', 'VIRAL']);
  });

  it('training/<LABEL>/ folders name the labels when no model is active; a folder no label name fits is left out', async () => {
    for (const label of ['VIRAL', 'NORMAL', 'BACTERIAL', '.hidden']) await folder(label);
    expect(await service().labelChoices()).toEqual(['BACTERIAL', 'NORMAL', 'VIRAL']);
  });

  it("the active model's labels, from its active record or else its version's evaluation, with the folders", async () => {
    await registry({ id: 'active', versionName: 'v1', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v1/1', state: 'RUNNING', labelMetrics: metrics('NORMAL', 'PNEUMONIA') });
    await folder('COVID');
    expect(await service().labelChoices()).toEqual(['COVID', 'NORMAL', 'PNEUMONIA']);
    await registry({ id: 'active', versionName: 'v2', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v2/1', state: 'RUNNING' });
    await registry({ id: 'version#v2', status: 'DEPLOYED', labelMetrics: metrics('VIRAL', 'BACTERIAL', 'NORMAL') });
    expect(await service().labelChoices()).toEqual(['BACTERIAL', 'COVID', 'NORMAL', 'VIRAL']);
  });

  it('are read again once a minute, so a promotion reaches an open page', async () => {
    const page = service();
    await registry({ id: 'active', versionName: 'v1', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v1/1', state: 'RUNNING', labelMetrics: metrics('NORMAL', 'PNEUMONIA') });
    expect(await page.labelChoices()).toEqual(['NORMAL', 'PNEUMONIA']);
    await registry({ id: 'active', versionName: 'v2', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v2/1', state: 'RUNNING', labelMetrics: metrics('BACTERIAL', 'NORMAL', 'VIRAL') });
    clock += 59_000;
    expect(await page.labelChoices()).toEqual(['NORMAL', 'PNEUMONIA']);
    clock += 2_000;
    expect(await page.labelChoices()).toEqual(['BACTERIAL', 'NORMAL', 'VIRAL']);
  });

  it("a decision's label must be decidable: a 400 naming the label and the choices; a trained subtype is accepted", async () => {
    await registry({ id: 'active', versionName: 'v2', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v2/1', state: 'RUNNING', labelMetrics: metrics('BACTERIAL', 'NORMAL', 'VIRAL') });
    const page = service();
    const refused = await page.decide({ imageKey: 'inbox/b.jpeg', label: 'PNEUMONIA', sequencer: '0000000000000001' }).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ReviewRequestError);
    expect(refused).toMatchObject({ status: 400, code: 'bad-label' });
    expect((refused as Error).message).toBe('label must be one of BACTERIAL, NORMAL, VIRAL, not "PNEUMONIA" (the active model\'s labels, the training/ folders and this result\'s own)');
    const decided = await page.decide({ imageKey: 'inbox/b.jpeg', label: 'BACTERIAL', sequencer: '0000000000000001' });
    expect(decided.review).toMatchObject({ reviewedLabel: 'BACTERIAL', agreement: 'CORRECTED' });
  });
});
