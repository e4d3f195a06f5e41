import { request } from 'node:http';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LabelCount } from '../../src/cli/commands/dataset.js';
import { runCli } from '../../src/cli/program.js';
import type { Target } from '../../src/cli/target.js';
import type { ItemView, ModelView } from '../../src/review/api-types.js';
import { CONTENT_SECURITY_POLICY } from '../../src/review/server.js';
import type { ReviewServer } from '../../src/review/server.js';
import { BUCKET, captureIo, putResult, startLocalServers } from '../fixtures/cli.js';
import type { LocalServers } from '../fixtures/cli.js';
import { fixtureImage } from '../fixtures/images.js';
import { pageClient, signIn, startReviewPage } from '../fixtures/review.js';
import type { PageClient } from '../fixtures/review.js';

/*
 * The review server's API over real HTTP, against dynalite (tables shaped as deployed) and the local S3.
 */

let servers: LocalServers;
let target: Target;
let alice: ReviewServer;
let bob: ReviewServer;
let asAlice: PageClient;
let asBob: PageClient;

const at = (minute: number): string => `2026-11-30T10:${String(minute).padStart(2, '0')}:00.000Z`;

/** The worklist fixture: the order the page must show them in is the order of this list. */
const ROWS = [
  { imageKey: 'inbox/ward-3/nr-new.jpeg', status: 'NEEDS_REVIEW', label: 'PNEUMONIA', confidence: 62, processedAt: at(50) },
  { imageKey: 'inbox/ward-5/nr-old.jpeg', status: 'NEEDS_REVIEW', label: 'NORMAL', confidence: 71, processedAt: at(10) },
  // One confidence band (95–100): newest first inside it.
  { imageKey: 'inbox/ward-5/p96.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 96, processedAt: at(40) },
  { imageKey: 'inbox/ward-3/p99.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 99.2, processedAt: at(5) },
  { imageKey: 'inbox/ward-3/p91.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 91, processedAt: at(45) },
  { imageKey: 'inbox/ward-5/p83.jpeg', status: 'CLASSIFIED', label: 'PNEUMONIA', confidence: 83, processedAt: at(55) },
  { imageKey: 'inbox/ward-3/n-new.jpeg', status: 'CLASSIFIED', label: 'NORMAL', confidence: 95, processedAt: at(30) },
  { imageKey: 'inbox/ward-5/n-old.jpeg', status: 'CLASSIFIED', label: 'NORMAL', confidence: 88, processedAt: at(20) },
  { imageKey: 'inbox/ward-3/pending.jpeg', status: 'PENDING', reason: 'no-model', processedAt: at(58) },
] as const;
const ORDER = ROWS.map((row) => row.imageKey);

async function seed(): Promise<void> {
  for (const row of ROWS) {
    const { label, confidence, ...rest } = row as { label?: string; confidence?: number } & Record<string, unknown> & { imageKey: string };
    await putResult(target, { ...rest, imageKey: row.imageKey, ...(label !== undefined ? { label, confidence } : {}), imageFormat: 'jpeg', width: 224, height: 224 });
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: row.imageKey, Body: fixtureImage(label === 'PNEUMONIA' ? 'pneumonia-1.jpeg' : 'normal-1.jpeg') }));
  }
}

async function row(key: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await target.clients.documents.send(new GetCommand({ TableName: target.names.resultsTable, Key: { imageKey: key } }));
  return Item;
}

async function walk(client: PageClient, query: string, limit: number): Promise<{ keys: string[]; pages: number }> {
  const keys: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const suffix: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const page = await client.get(`/api/worklist?limit=${limit}${query}${suffix}`);
    expect(page.status).toBe(200);
    keys.push(...(page.body.items as ItemView[]).map((item) => item.key));
    cursor = page.body.cursor as string | null;
    pages += 1;
  } while (cursor !== null && pages < 50);
  return { keys, pages };
}

/** A raw request, for headers fetch will not let a test set (Host). */
function rawGet(server: ReviewServer, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, headers }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  servers = await startLocalServers();
  target = servers.target();
  await seed();
  alice = await startReviewPage(target, 'dr-alice');
  bob = await startReviewPage(target, 'dr-bob');
  asAlice = pageClient(alice, await signIn(alice));
  asBob = pageClient(bob, await signIn(bob));
});

afterAll(async () => {
  await alice.close();
  await bob.close();
  target.close();
  await servers.stop();
});

describe('review server: access', () => {
  it('refuses every request without the session cookie, and the secret works once', async () => {
    const fresh = await startReviewPage(target, 'dr-carol');
    try {
      for (const path of ['/', '/app.js', '/api/session', '/api/worklist', `/api/image?key=${encodeURIComponent(ORDER[0] ?? '')}`]) {
        const response = await fetch(`${fresh.origin}${path}`);
        expect(response.status, path).toBe(401);
        expect(response.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
      }
      expect((await fetch(`${fresh.origin}/?token=not-the-secret`, { redirect: 'manual' })).status).toBe(403);
      const first = await fetch(fresh.url, { redirect: 'manual' });
      expect(first.status).toBe(303);
      expect(first.headers.get('location')).toBe('/');
      const cookie = first.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^pneumo_review=[\w-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
      expect((await fetch(fresh.url, { redirect: 'manual' })).status).toBe(403);
      const page = await fetch(`${fresh.origin}/`, { headers: { cookie: cookie.split(';')[0] ?? '' } });
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/Not a diagnosis/);
      expect(page.headers.get('cache-control')).toBe('no-store');
      expect(page.headers.get('x-content-type-options')).toBe('nosniff');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      expect((await fetch(`${fresh.origin}/api/session`, { headers: { cookie: 'pneumo_review=forged' } })).status).toBe(401);
    } finally {
      await fresh.close();
    }
  });

  it('answers only on its own loopback name (DNS rebinding) and only same-origin JSON changes anything', async () => {
    const cookie = await (async () => {
      const fresh = await startReviewPage(target, 'dr-dan');
      const value = await signIn(fresh);
      return { fresh, value };
    })();
    try {
      expect(await rawGet(cookie.fresh, '/api/session', { host: `127.0.0.1:${cookie.fresh.port}`, cookie: cookie.value })).toBe(200);
      expect(await rawGet(cookie.fresh, '/api/session', { host: `localhost:${cookie.fresh.port}`, cookie: cookie.value })).toBe(200);
      expect(await rawGet(cookie.fresh, '/api/session', { host: `rebind.example:${cookie.fresh.port}`, cookie: cookie.value })).toBe(421);
      const post = (headers: Record<string, string>, body: string): Promise<Response> => fetch(`${cookie.fresh.origin}/api/decisions`, { method: 'POST', headers: { cookie: cookie.value, ...headers }, body });
      const valid = JSON.stringify({ imageKey: ORDER[0], label: 'NORMAL', sequencer: 'x' });
      expect((await post({ 'content-type': 'application/json', origin: 'http://evil.example' }, valid)).status).toBe(403);
      expect((await post({ 'content-type': 'text/plain' }, valid)).status).toBe(415);
      const bad = await post({ 'content-type': 'application/json' }, JSON.stringify({ imageKey: 'training/x.jpeg', label: 'no such label!', sequencer: '' }));
      expect(bad.status).toBe(400);
      const body = (await bad.json()) as { error: string; message: string };
      expect(body.error).toBe('bad-request');
      expect(body.message).toMatch(/imageKey: must be an image key under inbox\//);
      expect(body.message).toMatch(/label: must be a label name/);
      expect(body.message).toMatch(/sequencer:/);
      const extra = await post({ 'content-type': 'application/json' }, JSON.stringify({ imageKey: ORDER[0], label: 'NORMAL', sequencer: 'x', admin: true }));
      expect(((await extra.json()) as { message: string }).message).toMatch(/Unrecognized key: "admin"/);
      expect((await post({ 'content-type': 'application/json' }, '{not json')).status).toBe(400);
      expect((await post({ 'content-type': 'application/json' }, JSON.stringify({ note: 'x'.repeat(20_000) }))).status).toBe(413);
    } finally {
      await cookie.fresh.close();
    }
  });
});

describe('review server: worklist', () => {
  it('orders NEEDS_REVIEW, then PNEUMONIA by confidence band, then the rest, the same in any page size', async () => {
    for (const limit of [100, 3, 1]) expect((await walk(asAlice, '', limit)).keys, `limit ${limit}`).toEqual(ORDER);
  });

  it('filters by status, label, date range, key prefix and decision, through the indexes', async () => {
    expect((await walk(asAlice, '&status=NEEDS_REVIEW', 10)).keys).toEqual([ORDER[0], ORDER[1]]);
    expect((await walk(asAlice, '&label=NORMAL', 10)).keys).toEqual(['inbox/ward-5/nr-old.jpeg', 'inbox/ward-3/n-new.jpeg', 'inbox/ward-5/n-old.jpeg']);
    expect((await walk(asAlice, '&status=CLASSIFIED&label=PNEUMONIA', 10)).keys).toEqual(ORDER.slice(2, 6));
    expect((await walk(asAlice, '&status=PENDING', 10)).keys).toEqual(['inbox/ward-3/pending.jpeg']);
    expect((await walk(asAlice, '&prefix=ward-3/', 2)).keys).toEqual(ORDER.filter((key) => key.startsWith('inbox/ward-3/')));
    const range = `&since=${encodeURIComponent(at(20))}&until=${encodeURIComponent(at(45))}`;
    expect((await walk(asAlice, range, 10)).keys).toEqual(['inbox/ward-5/p96.jpeg', 'inbox/ward-3/p91.jpeg', 'inbox/ward-3/n-new.jpeg', 'inbox/ward-5/n-old.jpeg']);
    // The same instants with a UTC offset: compared as instants, not as text against processedAt's UTC strings.
    const offset = `&since=${encodeURIComponent('2026-11-30T11:20:00+01:00')}&until=${encodeURIComponent('2026-11-30T11:45:00+01:00')}`;
    expect((await walk(asAlice, offset, 10)).keys).toEqual(['inbox/ward-5/p96.jpeg', 'inbox/ward-3/p91.jpeg', 'inbox/ward-3/n-new.jpeg', 'inbox/ward-5/n-old.jpeg']);
  });

  it('refuses bad filters and cursors that are forged, from another filter or another server', async () => {
    const bad = await asAlice.get('/api/worklist?status=DONE&limit=0&since=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.message).toMatch(/status: .*since: .*limit: /s);
    const swapped = await asAlice.get(`/api/worklist?since=${encodeURIComponent(at(40))}&until=${encodeURIComponent(at(20))}`);
    expect(swapped.body.message).toMatch(/since is after until/);
    const first = await asAlice.get('/api/worklist?limit=2');
    const cursor = first.body.cursor as string;
    expect((await asAlice.get(`/api/worklist?limit=2&cursor=${encodeURIComponent(cursor)}`)).status).toBe(200);
    const other = await asAlice.get(`/api/worklist?limit=2&label=NORMAL&cursor=${encodeURIComponent(cursor)}`);
    expect([other.status, other.body.error]).toEqual([400, 'bad-cursor']);
    expect((await asBob.get(`/api/worklist?limit=2&cursor=${encodeURIComponent(cursor)}`)).body.message).toMatch(/not issued by this server/);
    const [body] = cursor.split('.');
    const forged = `${Buffer.from(JSON.stringify({ f: '[]', s: 0, k: { imageKey: 'inbox/x' } })).toString('base64url')}.${cursor.split('.')[1] ?? ''}`;
    expect(body).toBeTruthy();
    expect((await asAlice.get(`/api/worklist?limit=2&cursor=${encodeURIComponent(forged)}`)).status).toBe(400);
  });

  it('streams the image of a result from S3 uncached, and nothing that is not a result', async () => {
    const key = 'inbox/ward-3/p99.jpeg';
    const cookie = await signIn(await startReviewPage(target, 'dr-erin').then((server) => { cleanup.push(server); return server; }));
    const server = cleanup[cleanup.length - 1] as ReviewServer;
    const response = await fetch(`${server.origin}/api/image?key=${encodeURIComponent(key)}`, { headers: { cookie } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(fixtureImage('pneumonia-1.jpeg'));
    await target.clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'inbox/no-row.jpeg', Body: fixtureImage('normal-1.jpeg') }));
    expect((await fetch(`${server.origin}/api/image?key=inbox/no-row.jpeg`, { headers: { cookie } })).status).toBe(404);
    expect((await fetch(`${server.origin}/api/image?key=training/NORMAL/a.jpeg`, { headers: { cookie } })).status).toBe(400);
    await putResult(target, { imageKey: 'inbox/notes.jpeg', status: 'REJECTED', reason: 'unsupported-format' });
    expect((await fetch(`${server.origin}/api/image?key=inbox/notes.jpeg`, { headers: { cookie } })).status).toBe(404);
  });
});

const cleanup: ReviewServer[] = [];
afterAll(async () => {
  for (const server of cleanup) await server.close();
});

describe('review server: decisions', () => {
  it('stores a confirmation on the row; a second reviewer gets a 409 with the first decision and overwrites nothing', async () => {
    const key = 'inbox/ward-3/nr-new.jpeg';
    const item = (await asAlice.get('/api/worklist?status=NEEDS_REVIEW&limit=1')).body.items as ItemView[];
    expect(item[0]?.key).toBe(key);
    const decided = await asAlice.post('/api/decisions', { imageKey: key, label: 'PNEUMONIA', sequencer: item[0]?.sequencer, note: 'right lower lobe' });
    expect(decided.status).toBe(200);
    expect((decided.body.item as ItemView).review).toMatchObject({ reviewedLabel: 'PNEUMONIA', reviewer: 'dr-alice', agreement: 'AGREED', reviewNote: 'right lower lobe', mine: true });
    expect(await row(key)).toMatchObject({ reviewedLabel: 'PNEUMONIA', reviewer: 'dr-alice', agreement: 'AGREED', reviewNote: 'right lower lobe', status: 'NEEDS_REVIEW', label: 'PNEUMONIA' });

    const second = await asBob.post('/api/decisions', { imageKey: key, label: 'NORMAL', sequencer: item[0]?.sequencer });
    expect(second.status).toBe(409);
    expect(second.body.error).toBe('conflict');
    expect(second.body.message).toMatch(/already decided by dr-alice \(PNEUMONIA, /);
    expect((second.body.item as ItemView).review).toMatchObject({ reviewer: 'dr-alice', reviewedLabel: 'PNEUMONIA', mine: false });
    expect(await row(key)).toMatchObject({ reviewedLabel: 'PNEUMONIA', reviewer: 'dr-alice' });
    // Alice deciding again is refused the same way: a change goes through undo.
    expect((await asAlice.post('/api/decisions', { imageKey: key, label: 'NORMAL', sequencer: item[0]?.sequencer })).status).toBe(409);
  });

  it('refuses a decision on a re-uploaded image, on a result without an answer, and a label the model does not know', async () => {
    const key = 'inbox/ward-5/nr-old.jpeg';
    const replaced = await asAlice.post('/api/decisions', { imageKey: key, label: 'NORMAL', sequencer: '0000000000000000' });
    expect([replaced.status, replaced.body.error]).toEqual([409, 'replaced']);
    expect((await asAlice.post('/api/decisions', { imageKey: 'inbox/ward-3/pending.jpeg', label: 'NORMAL', sequencer: '0000000000000001' })).body.error).toBe('not-decidable');
    expect((await asAlice.post('/api/decisions', { imageKey: key, label: 'COVID', sequencer: '0000000000000001' })).body.message).toMatch(/label must be one of NORMAL, PNEUMONIA/);
    expect((await asAlice.post('/api/decisions', { imageKey: 'inbox/none.jpeg', label: 'NORMAL', sequencer: '1' })).status).toBe(404);
    expect((await row(key))?.reviewedAt).toBeUndefined();
  });

  it('undoes only your own decision, conditionally, after which another reviewer may decide', async () => {
    const key = 'inbox/ward-5/p83.jpeg';
    const decided = await asBob.post('/api/decisions', { imageKey: key, label: 'NORMAL', sequencer: '0000000000000001' });
    const review = (decided.body.item as ItemView).review;
    expect(review).toMatchObject({ agreement: 'CORRECTED', reviewedLabel: 'NORMAL' });
    const notMine = await asAlice.post('/api/undo', { imageKey: key, reviewedAt: review?.reviewedAt });
    expect([notMine.status, notMine.body.error]).toEqual([409, 'not-yours']);
    const stale = await asBob.post('/api/undo', { imageKey: key, reviewedAt: '2026-01-01T00:00:00.000Z' });
    expect(stale.status).toBe(409);
    const undone = await asBob.post('/api/undo', { imageKey: key, reviewedAt: review?.reviewedAt });
    expect(undone.status).toBe(200);
    expect((undone.body.item as ItemView).review).toBeNull();
    const stored = await row(key);
    for (const field of ['reviewedLabel', 'reviewer', 'reviewedAt', 'agreement', 'reviewNote']) expect(stored?.[field], field).toBeUndefined();
    expect((await asAlice.post('/api/decisions', { imageKey: key, label: 'PNEUMONIA', sequencer: '0000000000000001' })).status).toBe(200);
  });

  it('filters the worklist by decision', async () => {
    const reviewed = (await walk(asAlice, '&reviewed=reviewed', 10)).keys;
    expect(reviewed).toEqual(['inbox/ward-3/nr-new.jpeg', 'inbox/ward-5/p83.jpeg']);
    // The REJECTED row of the image test comes last, after PENDING.
    expect((await walk(asAlice, '&reviewed=unreviewed', 10)).keys).toEqual([...ORDER.filter((key) => !reviewed.includes(key)), 'inbox/notes.jpeg']);
  });
});

describe('review server: learn', () => {
  it('copies a corrected image to training/<reviewed label>/from-review/ with its source as metadata; dataset stats counts it; undo removes it', async () => {
    const key = 'inbox/ward-5/n-old.jpeg';
    const decided = await asAlice.post('/api/decisions', { imageKey: key, label: 'PNEUMONIA', sequencer: '0000000000000001' });
    expect((decided.body.item as ItemView).review?.agreement).toBe('CORRECTED');
    const added = await asAlice.post('/api/training', { imageKey: key });
    expect(added.status).toBe(200);
    const trainingKey = (added.body.item as ItemView).review?.trainingKey ?? '';
    expect(trainingKey).toMatch(/^training\/PNEUMONIA\/from-review\/[0-9a-f]{32}\.jpeg$/);
    expect(trainingKey).not.toMatch(/ward-5/);
    expect(await row(key)).toMatchObject({ trainingKey });
    const head = await target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: trainingKey }));
    expect(head.ContentType).toBe('image/jpeg');
    expect(head.Metadata).toMatchObject({ 'source-key': encodeURIComponent(key), 'source-version-id': 'null', reviewer: 'dr-alice', 'reviewed-label': 'PNEUMONIA', origin: 'review' });
    expect(head.Metadata?.['reviewed-at']).toBe((decided.body.item as ItemView).review?.reviewedAt);
    // Adding again is the same object, not a second one.
    expect(((await asAlice.post('/api/training', { imageKey: key })).body.item as ItemView).review?.trainingKey).toBe(trainingKey);

    const io = captureIo();
    expect(await runCli(['dataset', 'stats', '-f', 'json'], { io, resolveTarget: () => Promise.resolve(servers.target()) })).toBe(0);
    expect((JSON.parse(io.text()) as LabelCount[]).find((r) => r.prefix === 'training/' && r.label === 'PNEUMONIA')).toMatchObject({ images: 1, fromReview: 1 });

    const undone = await asAlice.post('/api/undo', { imageKey: key, reviewedAt: (decided.body.item as ItemView).review?.reviewedAt });
    expect(undone.status).toBe(200);
    await expect(target.clients.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: trainingKey }))).rejects.toThrow();
    expect((await row(key))?.trainingKey).toBeUndefined();
  });

  it('refuses to add an image nobody decided, and "add all" copies every decided one of the view once', async () => {
    expect((await asAlice.post('/api/training', { imageKey: 'inbox/ward-3/p99.jpeg' })).body.error).toBe('not-reviewed');
    const all = await asAlice.post('/api/training/all', { filter: { prefix: 'ward-' } });
    expect(all.status).toBe(200);
    expect(all.body).toEqual({ added: 2, cursor: null });
    for (const key of ['inbox/ward-3/nr-new.jpeg', 'inbox/ward-5/p83.jpeg']) expect((await row(key))?.trainingKey, key).toMatch(/^training\/PNEUMONIA\/from-review\//);
    expect((await asAlice.post('/api/training/all', { filter: {} })).body).toEqual({ added: 0, cursor: null });
    expect((await asAlice.post('/api/training/all', { filter: { status: 'DONE' } })).status).toBe(400);
  });
});

describe('review server: model view', () => {
  it('shows the active version\'s evaluation, the confidence histogram with the threshold and agreement per day', async () => {
    const summaryKey = 'evaluation/v1/EvaluationResultSummary.json';
    await target.clients.s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: summaryKey,
        Body: JSON.stringify({
          AggregatedEvaluationResults: {
            F1Score: 0.93,
            ConfusionMatrix: [
              { GroundTruthLabel: 'NORMAL', PredictedLabel: 'NORMAL', Value: 0.9 },
              { GroundTruthLabel: 'NORMAL', PredictedLabel: 'PNEUMONIA', Value: 0.1 },
              { GroundTruthLabel: 'PNEUMONIA', PredictedLabel: 'NORMAL', Value: 0.04 },
              { GroundTruthLabel: 'PNEUMONIA', PredictedLabel: 'PNEUMONIA', Value: 0.96 },
            ],
          },
          LabelEvaluationResults: [
            { Label: 'PNEUMONIA', Metrics: { F1Score: 0.95, Precision: 0.94, Recall: 0.96, Threshold: 0.41 }, NumberOfTestingImages: 60 },
            { Label: 'NORMAL', Metrics: { F1Score: 0.91, Precision: 0.92, Recall: 0.9, Threshold: 0.55 }, NumberOfTestingImages: 40 },
          ],
        }),
      }),
    );
    await target.clients.documents.send(new PutCommand({ TableName: target.names.registryTable, Item: { id: 'active', projectVersionArn: 'arn:aws:rekognition:eu-west-1:000000000000:project/p/version/v1/1', versionName: 'v1', state: 'RUNNING', f1: 0.93, promotedAt: at(0) } }));
    await target.clients.documents.send(new PutCommand({ TableName: target.names.registryTable, Item: { id: 'version#v1', status: 'DEPLOYED', evaluationSummary: `s3://${BUCKET}/${summaryKey}` } }));

    const { status, body } = await asAlice.get('/api/model');
    expect(status).toBe(200);
    const view = body as unknown as ModelView;
    expect(view.active).toMatchObject({ versionName: 'v1', state: 'RUNNING', f1: 0.93 });
    expect(view.labels.map((l) => [l.label, l.precision, l.recall, l.threshold, l.testImages])).toEqual([
      ['NORMAL', 0.92, 0.9, 0.55, 40],
      ['PNEUMONIA', 0.94, 0.96, 0.41, 60],
    ]);
    expect(view.confusion?.labels).toEqual(['NORMAL', 'PNEUMONIA']);
    expect(view.confusion?.cells).toContainEqual({ truth: 'PNEUMONIA', predicted: 'NORMAL', fraction: 0.04 });
    expect(view.threshold).toBe(80);
    expect(view.histogram.sample).toBe(8);
    expect(view.histogram.bins.find((b) => b.from === 60)).toEqual({ from: 60, classified: 0, needsReview: 1 });
    expect(view.histogram.bins.find((b) => b.from === 95)).toEqual({ from: 95, classified: 3, needsReview: 0 });
    // Decisions standing now: nr-new and p83, both agreeing with the model (n-old's correction was undone).
    expect(view.agreement).toEqual({ days: [{ day: new Date().toISOString().slice(0, 10), agreed: 2, corrected: 0 }], reviewed: 2, complete: true });
  });
});
