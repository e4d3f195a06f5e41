import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import type { ListObjectsV2CommandOutput, ListObjectVersionsCommandOutput, PutObjectCommandInput, PutObjectCommandOutput } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inPool, openSubject, outcome, record, TARGET, writeAnswers } from './conformance-support.js';
import type { Subject } from './conformance-support.js';

/*
 * The local S3 against the answers AWS documents for S3, through the real SDK over HTTP. The same file runs
 * against a second implementation (S3_CONFORMANCE_ENDPOINT; `.ci/run` uses moto) and each probe's normalised
 * answer is recorded, so the two can be compared answer for answer (test/local/s3/compare-answers.ts).
 */

/** Where moto (5.2.1) answers differently from documented S3: the probe is expected to fail there. */
const DEVIATIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  moto: {
    'MaxKeys over 1 000 answers at most 1 000': 'answers all 2 500 keys in one page',
    'an invalid continuation token is InvalidArgument (400)': 'answers 500 with an HTML page',
    'a negative or non-numeric max-keys is InvalidArgument (400)': 'accepts -1',
    'EncodingType=url encodes a space as + and keeps /, as S3 (and its notifications) do': 'encodes a space as %20',
    'a key of 1 024 UTF-8 bytes (and a 300-byte segment) is stored; 1 025 bytes is KeyTooLongError (400)': 'stores a 1 025-byte key',
    'a malformed version id is InvalidArgument (400) on GET, HEAD and DELETE': 'answers NoSuchVersion (404)',
    'GET of a key whose latest version is a delete marker says so (x-amz-delete-marker: true)': 'sends no x-amz-delete-marker with the 404',
    'DELETE of a delete marker by version id answers x-amz-delete-marker: true': 'leaves x-amz-delete-marker out',
    'a version-id marker that is malformed is InvalidArgument (400)': 'accepts it',
    'an unknown metadata directive is InvalidArgument (400)': 'accepts MERGE',
    'Content-MD5 is checked: a wrong one is BadDigest (400), a malformed one InvalidDigest (400)': 'does not check Content-MD5',
    'a checksum that does not match the bytes is BadDigest (400) and stores nothing': 'stores the object',
    'an object stored without SSE headers is encrypted with SSE-S3 (AES256), as S3 does since 2023': 'sends no x-amz-server-side-encryption',
    'GET of a delete marker by its version id is MethodNotAllowed (405)': 'answers NoSuchVersion (404)',
    'DeleteObjects in Quiet mode answers only the errors': 'lists the deleted keys too',
    'in a versioned bucket DELETE of a key that never existed still adds a delete marker (single and DeleteObjects)': 'adds none',
  },
};

function conform(name: string, test: () => Promise<void>, timeout?: number): void {
  const deviation = DEVIATIONS[TARGET]?.[name];
  if (deviation === undefined) it(name, test, timeout);
  else it.fails(`${name} [${TARGET} deviates: ${deviation}]`, test, timeout);
}

let s3: Subject;
beforeAll(async () => {
  s3 = await openSubject();
});
afterAll(async () => {
  await writeAnswers();
  await s3.stop();
});

const put = (key: string, body: PutObjectCommandInput['Body'] = key, extra: Omit<PutObjectCommandInput, 'Bucket' | 'Key' | 'Body'> = {}): Promise<PutObjectCommandOutput> =>
  s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body, ...extra }));

const text = async (key: string, versionId?: string): Promise<string> => {
  const { Body } = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, VersionId: versionId }));
  return (await Body?.transformToString()) ?? '';
};

async function listAllV2(input: { Prefix?: string; Delimiter?: string; MaxKeys?: number; StartAfter?: string }): Promise<{ keys: string[]; prefixes: string[]; pages: number }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let token: string | undefined;
  let pages = 0;
  do {
    const page: ListObjectsV2CommandOutput = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, ...input, ContinuationToken: token }));
    pages++;
    keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
    prefixes.push(...(page.CommonPrefixes ?? []).map((prefix) => prefix.Prefix ?? ''));
    expect(page.KeyCount).toBe((page.Contents?.length ?? 0) + (page.CommonPrefixes?.length ?? 0));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (page.IsTruncated) expect(token).toBeTruthy();
  } while (token);
  return { keys, prefixes, pages };
}

const sortedUtf8 = (keys: readonly string[]): string[] => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

describe('ListObjectsV2', () => {
  const PREFIX = 'scale/';
  const COUNT = 2_500;
  const keys = Array.from({ length: COUNT }, (_, i) => `${PREFIX}${i % 3 === 0 ? 'NORMAL' : 'PNEUMONIA'}/img-${String(i).padStart(5, '0')}.jpeg`);
  beforeAll(async () => {
    await inPool(keys, 16, (key) => put(key, 'x'));
  }, 300_000);

  conform('lists 2 500 keys in pages of 1 000 with continuation tokens, every key once, in UTF-8 order', async () => {
    const listed = await listAllV2({ Prefix: PREFIX });
    expect(listed.pages).toBe(3);
    expect(listed.keys).toEqual(sortedUtf8(keys));
    record('v2.scale', { pages: listed.pages, count: listed.keys.length });
  });

  conform('MaxKeys pages through common prefixes and keys without repeating a prefix', async () => {
    const first = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: PREFIX, Delimiter: '/' }));
    expect(first.CommonPrefixes?.map((p) => p.Prefix)).toEqual([`${PREFIX}NORMAL/`, `${PREFIX}PNEUMONIA/`]);
    expect(first.Contents).toBeUndefined();
    const paged = await listAllV2({ Prefix: PREFIX, Delimiter: '/', MaxKeys: 1 });
    expect(paged).toEqual({ keys: [], prefixes: [`${PREFIX}NORMAL/`, `${PREFIX}PNEUMONIA/`], pages: 2 });
    const small = await listAllV2({ Prefix: `${PREFIX}NORMAL/`, MaxKeys: 300 });
    expect(small.keys).toEqual(sortedUtf8(keys.filter((key) => key.startsWith(`${PREFIX}NORMAL/`))));
    expect(small.pages).toBe(Math.ceil(small.keys.length / 300));
    record('v2.delimiter', { prefixes: first.CommonPrefixes?.map((p) => p.Prefix), pagedPages: paged.pages, smallPages: small.pages });
  });

  conform('StartAfter starts after a key, present or not', async () => {
    const after = keys.filter((key) => key.includes('PNEUMONIA')).sort()[10] as string;
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${PREFIX}PNEUMONIA/`, StartAfter: after, MaxKeys: 5 }));
    expect(page.Contents?.map((object) => object.Key)).toEqual(sortedUtf8(keys.filter((key) => key.includes('PNEUMONIA') && key > after)).slice(0, 5));
    expect(page.StartAfter).toBe(after);
    const absent = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: PREFIX, StartAfter: `${PREFIX}NORMAL/img-00001`, MaxKeys: 1 }));
    expect(absent.Contents?.[0]?.Key).toBe(`${PREFIX}NORMAL/img-00003.jpeg`);
    record('v2.startAfter', { first: page.Contents?.[0]?.Key, absent: absent.Contents?.[0]?.Key });
  });

  conform('MaxKeys over 1 000 answers at most 1 000', async () => {
    const capped = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: PREFIX, MaxKeys: 5000 }));
    expect(capped.KeyCount).toBe(1000);
    expect(capped.IsTruncated).toBe(true);
    record('v2.maxKeysCap', capped.KeyCount);
  });

  conform('an invalid continuation token is InvalidArgument (400)', async () => {
    const answer = await outcome(s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, ContinuationToken: 'not-a-token' })));
    expect([answer.status, answer.code]).toEqual([400, 'InvalidArgument']);
    record('v2.badToken', [answer.status, answer.code]);
  });

  conform('a negative or non-numeric max-keys is InvalidArgument (400)', async () => {
    const answer = await outcome(s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, MaxKeys: -1 })));
    expect([answer.status, answer.code]).toEqual([400, 'InvalidArgument']);
    record('v2.negativeMaxKeys', [answer.status, answer.code]);
  });

  conform('ListObjects (v1) pages with Marker / NextMarker', async () => {
    const seen: string[] = [];
    let marker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await s3.client.send(new ListObjectsCommand({ Bucket: s3.bucket, Prefix: `${PREFIX}NORMAL/`, Marker: marker, MaxKeys: 400 }));
      pages++;
      const got = (page.Contents ?? []).map((object) => object.Key ?? '');
      seen.push(...got);
      if (!page.IsTruncated) break;
      marker = page.NextMarker ?? got.at(-1);
    }
    expect(seen).toEqual(sortedUtf8(keys.filter((key) => key.startsWith(`${PREFIX}NORMAL/`))));
    record('v1.marker', { pages, count: seen.length });
  });
});

describe('keys are literal strings', () => {
  const LITERAL = ['lit/a/../b', 'lit/a/./b', 'lit/a//b', 'lit/a/b', 'lit/./x', 'lit/../x', 'lit//lead', 'lit/dot.', 'lit/trailing/', 'lit/ends-with-dot/.'];
  const SPECIAL = ['enc/ward 3+4.jpeg', 'enc/q?a=1&b=2#frag.jpeg', 'enc/;:,@$!\'()*~.jpeg', 'enc/100%.jpeg', 'enc/é/日本/🫁.jpeg', 'enc/tab\there', 'enc/<xml>&"amp"'];

  conform('`..`, `.`, empty and trailing segments are distinct keys with their own bytes', async () => {
    for (const key of LITERAL) await put(key, `body of ${key}`);
    for (const key of LITERAL) expect(await text(key)).toBe(`body of ${key}`);
    const listed = await listAllV2({ Prefix: 'lit/' });
    expect(listed.keys).toEqual(sortedUtf8(LITERAL));
    record('keys.literal', listed.keys);
  });

  conform('keys with characters that need encoding round-trip through PUT, GET, HEAD and listings (EncodingType=url too)', async () => {
    for (const key of SPECIAL) await put(key, key);
    for (const key of SPECIAL) {
      expect(await text(key)).toBe(key);
      expect((await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }))).ContentLength).toBe(Buffer.byteLength(key));
    }
    expect((await listAllV2({ Prefix: 'enc/' })).keys).toEqual(sortedUtf8(SPECIAL));
    const encoded = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'enc/', EncodingType: 'url' }));
    expect(encoded.EncodingType).toBe('url');
    const decoded = (encoded.Contents ?? []).map((object) => decodeURIComponent((object.Key ?? '').replace(/\+/g, '%20')));
    expect(decoded).toEqual(sortedUtf8(SPECIAL));
    record('keys.special', decoded);
  });

  conform('EncodingType=url encodes a space as + and keeps /, as S3 (and its notifications) do', async () => {
    await put('enc2/ward 3+4.jpeg', 'x');
    const encoded = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'enc2/', EncodingType: 'url' }));
    expect(encoded.Contents?.map((object) => object.Key)).toEqual(['enc2/ward+3%2B4.jpeg']);
    record('keys.urlEncoding', encoded.Contents?.map((object) => object.Key));
  });

  conform('a key of 1 024 UTF-8 bytes (and a 300-byte segment) is stored; 1 025 bytes is KeyTooLongError (400)', async () => {
    const longest = `long/${'é'.repeat(509)}x`;
    expect(Buffer.byteLength(longest)).toBe(1024);
    const segment = `long/${'s'.repeat(300)}/x.jpeg`;
    await put(longest, 'longest');
    await put(segment, 'segment');
    expect(await text(longest)).toBe('longest');
    expect(await text(segment)).toBe('segment');
    const tooLong = await outcome(put(`${longest}y`, 'no'));
    expect([tooLong.status, tooLong.code]).toEqual([400, 'KeyTooLongError']);
    record('keys.length', [tooLong.status, tooLong.code]);
  });
});

describe('versioning, as the deployed bucket has it', () => {
  conform('every PUT gets a new VersionId; GET and HEAD by versionId answer that version', async () => {
    const v1 = await put('ver/a.jpeg', 'one');
    const v2 = await put('ver/a.jpeg', 'two');
    expect(v1.VersionId).toBeTruthy();
    expect(v2.VersionId).toBeTruthy();
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await text('ver/a.jpeg')).toBe('two');
    expect(await text('ver/a.jpeg', v1.VersionId)).toBe('one');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/a.jpeg', VersionId: v1.VersionId }));
    expect([head.VersionId, head.ContentLength]).toEqual([v1.VersionId, 3]);
    const latest = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/a.jpeg' }));
    expect(latest.VersionId).toBe(v2.VersionId);
    const status = await s3.client.send(new GetBucketVersioningCommand({ Bucket: s3.bucket }));
    expect(status.Status).toBe('Enabled');
    record('versions.put', { distinct: v1.VersionId !== v2.VersionId, status: status.Status });
  });

  conform('an unknown (well-formed) version is NoSuchVersion (404), on HEAD a bare 404', async () => {
    const { VersionId = '' } = await put('ver/b.jpeg', 'b');
    // Same shape as a real id, one character changed: well-formed, but no such version.
    const unknown = `${VersionId.slice(0, -1)}${VersionId.endsWith('A') ? 'B' : 'A'}`;
    const missing = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/b.jpeg', VersionId: unknown })));
    const headMissing = await outcome(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/b.jpeg', VersionId: unknown })));
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchVersion']);
    expect(headMissing.status).toBe(404);
    record('versions.unknown', { missing: [missing.status, missing.code], head: headMissing.status });
  });

  conform('a malformed version id is InvalidArgument (400) on GET, HEAD and DELETE', async () => {
    await put('ver/m.jpeg', 'm');
    const get = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/m.jpeg', VersionId: 'not-a-version' })));
    const head = await outcome(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/m.jpeg', VersionId: 'not-a-version' })));
    const remove = await outcome(s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/m.jpeg', VersionId: 'not-a-version' })));
    expect([get.status, get.code]).toEqual([400, 'InvalidArgument']);
    expect(head.status).toBe(400);
    expect([remove.status, remove.code]).toEqual([400, 'InvalidArgument']);
    expect(await text('ver/m.jpeg')).toBe('m');
    record('versions.malformed', { get: [get.status, get.code], head: head.status, remove: [remove.status, remove.code] });
  });

  conform('DELETE without a version adds a delete marker: GET is NoSuchKey (404, x-amz-delete-marker), old versions stay', async () => {
    const { VersionId: kept } = await put('ver/c.jpeg', 'kept');
    const deleted = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/c.jpeg' }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(deleted.VersionId).toBeTruthy();
    const get = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/c.jpeg' })));
    expect(get.error).toBeInstanceOf(NoSuchKey);
    expect(get.status).toBe(404);
    const head = await outcome(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/c.jpeg' })));
    expect(head.error).toBeInstanceOf(NotFound);
    expect(await text('ver/c.jpeg', kept)).toBe('kept');
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'ver/c' }));
    expect(listed.KeyCount).toBe(0);
    record('versions.deleteMarker', { get: [get.status, get.code], head: head.status, listed: listed.KeyCount });
  });

  conform('GET of a delete marker by its version id is MethodNotAllowed (405)', async () => {
    await put('ver/g.jpeg', 'g');
    const { VersionId } = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/g.jpeg' }));
    const marker = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/g.jpeg', VersionId })));
    expect([marker.status, marker.code]).toEqual([405, 'MethodNotAllowed']);
    record('versions.getMarker', [marker.status, marker.code]);
  });

  conform('GET of a key whose latest version is a delete marker says so (x-amz-delete-marker: true)', async () => {
    await put('ver/e.jpeg', 'e');
    const { VersionId } = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/e.jpeg' }));
    const get = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/e.jpeg' })));
    expect(get.error?.$response?.headers['x-amz-delete-marker']).toBe('true');
    expect(get.error?.$response?.headers['x-amz-version-id']).toBe(VersionId);
    record('versions.deleteMarkerHeader', get.error?.$response?.headers['x-amz-delete-marker']);
  });

  conform('DELETE of a version removes it for good; removing the delete marker brings the object back', async () => {
    const { VersionId: first } = await put('ver/d.jpeg', 'first');
    const { VersionId: second } = await put('ver/d.jpeg', 'second');
    const removed = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/d.jpeg', VersionId: second }));
    expect(removed.VersionId).toBe(second);
    expect(removed.DeleteMarker).toBeUndefined();
    expect(await text('ver/d.jpeg')).toBe('first');
    const gone = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'ver/d.jpeg', VersionId: second })));
    expect([gone.status, gone.code]).toEqual([404, 'NoSuchVersion']);
    const marker = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/d.jpeg' }));
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/d.jpeg', VersionId: marker.VersionId }));
    expect(await text('ver/d.jpeg')).toBe('first');
    expect((await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'ver/d.jpeg' }))).VersionId).toBe(first);
    record('versions.deleteVersion', { gone: [gone.status, gone.code] });
  });

  conform('DELETE of a delete marker by version id answers x-amz-delete-marker: true', async () => {
    await put('ver/f.jpeg', 'f');
    const marker = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/f.jpeg' }));
    const unmarked = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'ver/f.jpeg', VersionId: marker.VersionId }));
    expect([unmarked.DeleteMarker, unmarked.VersionId]).toEqual([true, marker.VersionId]);
    record('versions.deleteMarkerDelete', unmarked.DeleteMarker);
  });

  conform('ListObjectVersions pages through versions and delete markers, newest first per key, with key and version markers', async () => {
    const written: string[] = [];
    for (let i = 0; i < 5; i++) written.push((await put('lv/x.jpeg', `x${i}`)).VersionId ?? '');
    const marker = (await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'lv/x.jpeg' }))).VersionId ?? '';
    await put('lv/y.jpeg', 'y');
    await put('lv/sub/z.jpeg', 'z');
    const seen: { key: string; id: string; latest: boolean; marker: boolean }[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page: ListObjectVersionsCommandOutput = await s3.client.send(new ListObjectVersionsCommand({ Bucket: s3.bucket, Prefix: 'lv/', MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }));
      pages++;
      const entries = [
        ...(page.Versions ?? []).map((v) => ({ key: v.Key ?? '', id: v.VersionId ?? '', latest: v.IsLatest ?? false, marker: false, at: v.LastModified?.getTime() ?? 0 })),
        ...(page.DeleteMarkers ?? []).map((v) => ({ key: v.Key ?? '', id: v.VersionId ?? '', latest: v.IsLatest ?? false, marker: true, at: v.LastModified?.getTime() ?? 0 })),
      ];
      expect(entries.length).toBeLessThanOrEqual(2);
      seen.push(...entries.map(({ key, id, latest, marker: isMarker }) => ({ key, id, latest, marker: isMarker })));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    const xs = seen.filter((entry) => entry.key === 'lv/x.jpeg');
    expect(xs.map((entry) => entry.id).sort()).toEqual([...written, marker].sort());
    expect(xs.find((entry) => entry.latest)).toMatchObject({ id: marker, marker: true });
    expect(seen.filter((entry) => entry.key !== 'lv/x.jpeg').map((entry) => [entry.key, entry.latest])).toEqual([
      ['lv/sub/z.jpeg', true],
      ['lv/y.jpeg', true],
    ]);
    const withDelimiter = await s3.client.send(new ListObjectVersionsCommand({ Bucket: s3.bucket, Prefix: 'lv/', Delimiter: '/' }));
    expect(withDelimiter.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['lv/sub/']);
    record('versions.list', { entries: seen.length, pages, markers: seen.filter((entry) => entry.marker).length, prefixes: withDelimiter.CommonPrefixes?.map((p) => p.Prefix) });
  });

  conform('a version-id marker that is malformed is InvalidArgument (400)', async () => {
    const answer = await outcome(s3.client.send(new ListObjectVersionsCommand({ Bucket: s3.bucket, KeyMarker: 'lv/x.jpeg', VersionIdMarker: 'bad' })));
    expect([answer.status, answer.code]).toEqual([400, 'InvalidArgument']);
    record('versions.badMarker', [answer.status, answer.code]);
  });
});

describe('CopyObject', () => {
  conform('copies from an encoded x-amz-copy-source, with ?versionId= for an older version', async () => {
    const source = 'copy/ward 3+4 & ?#=:;,@$.jpeg';
    const { VersionId: old } = await put(source, 'old bytes');
    await put(source, 'new bytes');
    const encoded = `${s3.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`;
    const latest = await s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'copy/latest.jpeg', CopySource: encoded }));
    const older = await s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'copy/older.jpeg', CopySource: `${encoded}?versionId=${old ?? ''}` }));
    expect(await text('copy/latest.jpeg')).toBe('new bytes');
    expect(await text('copy/older.jpeg')).toBe('old bytes');
    expect(older.CopySourceVersionId).toBe(old);
    expect(latest.VersionId).toBeTruthy();
    expect(older.CopyObjectResult?.ETag).toBe(`"${createHash('md5').update('old bytes').digest('hex')}"`);
    const missing = await outcome(s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'copy/none.jpeg', CopySource: `${s3.bucket}/copy/absent.jpeg` })));
    expect(missing.error).toBeInstanceOf(S3ServiceException);
    expect([missing.status, missing.code]).toEqual([404, 'NoSuchKey']);
    record('copy.encoded', { missing: [missing.status, missing.code] });
  });

  conform('onto itself S3 requires a change: COPY alone is InvalidRequest (400), REPLACE makes a new version with the new metadata', async () => {
    const key = 'copy/self 1+1.jpeg';
    const { VersionId: before } = await put(key, 'self', { ContentType: 'image/jpeg', Metadata: { origin: 'ward' } });
    const source = `${s3.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const refused = await outcome(s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: key, CopySource: source })));
    expect([refused.status, refused.code]).toEqual([400, 'InvalidRequest']);
    const replaced = await s3.client.send(
      new CopyObjectCommand({ Bucket: s3.bucket, Key: key, CopySource: source, MetadataDirective: 'REPLACE', ContentType: 'image/jpeg', Metadata: { origin: 'ward', redriven: 'yes' } }),
    );
    expect(replaced.VersionId).not.toBe(before);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    expect(head.Metadata).toEqual({ origin: 'ward', redriven: 'yes' });
    expect(head.ContentType).toBe('image/jpeg');
    const copied = await s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'copy/kept-metadata.jpeg', CopySource: source }));
    expect(copied.VersionId).toBeTruthy();
    expect((await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'copy/kept-metadata.jpeg' }))).Metadata).toEqual({ origin: 'ward', redriven: 'yes' });
    record('copy.self', [refused.status, refused.code]);
  });

  conform('an unknown metadata directive is InvalidArgument (400)', async () => {
    await put('copy/d.jpeg', 'd');
    const badDirective = await outcome(s3.client.send(new CopyObjectCommand({ Bucket: s3.bucket, Key: 'copy/x.jpeg', CopySource: `${s3.bucket}/copy/d.jpeg`, MetadataDirective: 'MERGE' as 'COPY' })));
    expect([badDirective.status, badDirective.code]).toEqual([400, 'InvalidArgument']);
    record('copy.badDirective', [badDirective.status, badDirective.code]);
  });
});

describe('reads, writes and deletes', () => {
  const BODY = Buffer.from(Array.from({ length: 100 }, (_, i) => i));

  conform('ranged GETs answer 206 with Content-Range; a range past the end is InvalidRange (416)', async () => {
    await put('range/r.bin', BODY);
    const get = async (range: string): Promise<{ bytes: number[]; range: string | undefined; status: number | undefined }> => {
      const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range/r.bin', Range: range }));
      return { bytes: [...((await response.Body?.transformToByteArray()) ?? [])], range: response.ContentRange, status: response.$metadata.httpStatusCode };
    };
    expect(await get('bytes=0-3')).toEqual({ bytes: [0, 1, 2, 3], range: 'bytes 0-3/100', status: 206 });
    expect(await get('bytes=-4')).toEqual({ bytes: [96, 97, 98, 99], range: 'bytes 96-99/100', status: 206 });
    expect(await get('bytes=98-')).toEqual({ bytes: [98, 99], range: 'bytes 98-99/100', status: 206 });
    expect((await get('bytes=90-500')).range).toBe('bytes 90-99/100');
    const past = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'range/r.bin', Range: 'bytes=100-200' })));
    expect([past.status, past.code]).toEqual([416, 'InvalidRange']);
    record('range', [past.status, past.code]);
  });

  conform('ETag is the MD5 hex of a single PUT; HEAD gives length, type, metadata', async () => {
    const written = await put('etag/e.jpeg', BODY, { ContentType: 'image/jpeg', Metadata: { ward: '3' } });
    expect(written.ETag).toBe(`"${createHash('md5').update(BODY).digest('hex')}"`);
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'etag/e.jpeg' }));
    expect([head.ContentLength, head.ContentType, head.ETag, head.Metadata]).toEqual([100, 'image/jpeg', written.ETag, { ward: '3' }]);
    record('etag', head.ETag === written.ETag);
  });

  conform('Content-MD5 is checked: a wrong one is BadDigest (400), a malformed one InvalidDigest (400)', async () => {
    const right = await outcome(put('etag/md5.jpeg', BODY, { ContentMD5: createHash('md5').update(BODY).digest('base64') }));
    expect(right.code).toBe('OK');
    const wrong = await outcome(put('etag/md5.jpeg', BODY, { ContentMD5: createHash('md5').update('other').digest('base64') }));
    expect([wrong.status, wrong.code]).toEqual([400, 'BadDigest']);
    const invalid = await outcome(put('etag/md5.jpeg', BODY, { ContentMD5: 'bm90LW1kNQ==' }));
    expect([invalid.status, invalid.code]).toEqual([400, 'InvalidDigest']);
    record('contentMd5', { wrong: [wrong.status, wrong.code], invalid: [invalid.status, invalid.code] });
  });

  conform('PUTs with the checksums the SDK sends (CRC32 by default, CRC32C, SHA1, SHA256) and a streamed aws-chunked body', async () => {
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'SHA256'] as const) {
      const answer = await put(`sum/${algorithm}.bin`, BODY, { ChecksumAlgorithm: algorithm });
      expect(answer.ETag).toBeTruthy();
    }
    const streamed = await put('sum/stream.bin', Readable.from([BODY.subarray(0, 60), BODY.subarray(60)]), { ContentLength: BODY.length });
    expect(streamed.ETag).toBe(`"${createHash('md5').update(BODY).digest('hex')}"`);
    const { Body } = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'sum/stream.bin' }));
    expect(Buffer.from((await Body?.transformToByteArray()) ?? [])).toEqual(BODY);
    record('checksums', true);
  });

  conform('a checksum that does not match the bytes is BadDigest (400) and stores nothing', async () => {
    const wrong = await outcome(put('sum/wrong.bin', BODY, { ChecksumCRC32: 'AAAAAA==' }));
    expect([wrong.status, wrong.code]).toEqual([400, 'BadDigest']);
    const stored = await outcome(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'sum/wrong.bin' })));
    expect(stored.status).toBe(404);
    record('checksumMismatch', [wrong.status, wrong.code]);
  });

  conform('SSE headers are accepted and answered back on PUT and HEAD', async () => {
    const kms = await put('sse/kms.jpeg', 'k', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: 'alias/pneumo' });
    expect(kms.ServerSideEncryption).toBe('aws:kms');
    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'sse/kms.jpeg' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    record('sse', kms.ServerSideEncryption);
  });

  conform('an object stored without SSE headers is encrypted with SSE-S3 (AES256), as S3 does since 2023', async () => {
    const plain = await put('sse/plain.jpeg', 'p');
    expect(plain.ServerSideEncryption).toBe('AES256');
    record('sseDefault', plain.ServerSideEncryption);
  });

  conform('DeleteObjects deletes many keys (delete markers) and versions in one call', async () => {
    const { VersionId: one } = await put('many/1.jpeg', '1');
    await put('many/2.jpeg', '2');
    const answer = await s3.client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: [{ Key: 'many/1.jpeg', VersionId: one }, { Key: 'many/2.jpeg' }] } }));
    expect(answer.Errors).toBeUndefined();
    const deleted = (answer.Deleted ?? []).map((entry) => [entry.Key, entry.VersionId === one, entry.DeleteMarker ?? false]).sort();
    expect(deleted).toEqual([
      ['many/1.jpeg', true, false],
      ['many/2.jpeg', false, true],
    ]);
    expect((await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'many/' }))).KeyCount).toBe(0);
    record('deleteObjects', deleted);
  });

  conform('DeleteObjects in Quiet mode answers only the errors', async () => {
    await put('quiet/3.jpeg', '3');
    const quiet = await s3.client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Quiet: true, Objects: [{ Key: 'quiet/3.jpeg' }] } }));
    expect(quiet.Deleted).toBeUndefined();
    expect(quiet.Errors).toBeUndefined();
    record('deleteObjectsQuiet', quiet.Deleted ?? null);
  });

  conform('in a versioned bucket DELETE of a key that never existed still adds a delete marker (single and DeleteObjects)', async () => {
    const single = await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: 'never/a.jpeg' }));
    const many = await s3.client.send(new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: [{ Key: 'never/b.jpeg' }] } }));
    expect(single.DeleteMarker).toBe(true);
    expect(many.Deleted?.[0]?.DeleteMarker).toBe(true);
    const versions = await s3.client.send(new ListObjectVersionsCommand({ Bucket: s3.bucket, Prefix: 'never/' }));
    expect(versions.DeleteMarkers?.map((marker) => marker.Key)).toEqual(['never/a.jpeg', 'never/b.jpeg']);
    record('deleteNeverExisted', { single: single.DeleteMarker, many: many.Deleted?.[0]?.DeleteMarker });
  });

  conform('a missing bucket is NoSuchBucket (404); a missing key NoSuchKey (404), NotFound on HEAD', async () => {
    const bucket = await outcome(s3.client.send(new GetObjectCommand({ Bucket: 'no-such-bucket-pneumo', Key: 'x' })));
    expect(bucket.error).toBeInstanceOf(NoSuchBucket);
    const key = await outcome(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: 'nothing/here' })));
    expect(key.error).toBeInstanceOf(NoSuchKey);
    const head = await outcome(s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: 'nothing/here' })));
    expect(head.error).toBeInstanceOf(NotFound);
    record('missing', { bucket: [bucket.status, bucket.code], key: [key.status, key.code], head: [head.status, head.code] });
  });
});
