import { BlobStore } from './blobs.js';
import { Catalog, isWellFormedVersionId } from './catalog.js';
import type { BucketState, ObjectVersion } from './catalog.js';
import { invalidArgument, invalidRequest, malformedXml, noSuchBucket, noSuchKey, noSuchVersion, S3Error } from './errors.js';
import { checkKey, decodePercent } from './keys.js';
import type { Reply, S3Request } from './request.js';
import { headerOf, XML } from './request.js';
import { readSmallBody, storeBody } from './upload.js';
import { childText, parseXml, xmlDocument } from './xml.js';
import type { XmlNode } from './xml.js';

/** What the local stack hears of each new object version, synchronously, before the PUT or COPY is answered. */
export interface ObjectCreated {
  readonly bucket: string;
  /** Decoded key, as stored. */
  readonly key: string;
  /** ObjectCreated:Put or ObjectCreated:Copy. */
  readonly eventName: string;
  readonly size: number;
  readonly eTag: string | undefined;
  readonly versionId: string | undefined;
}

/** Headers stored with an object and returned on GET/HEAD as they were sent. */
const CONTENT_HEADERS = ['content-type', 'cache-control', 'content-disposition', 'content-language', 'expires', 'x-amz-website-redirect-location'] as const;
const STORAGE_CLASSES = new Set(['STANDARD', 'REDUCED_REDUNDANCY', 'STANDARD_IA', 'ONEZONE_IA', 'INTELLIGENT_TIERING', 'GLACIER', 'DEEP_ARCHIVE', 'OUTPOSTS', 'GLACIER_IR', 'SNOW', 'EXPRESS_ONEZONE']);
const ENCRYPTIONS = new Set(['AES256', 'aws:kms', 'aws:kms:dsse']);
const MAX_METADATA_BYTES = 2048;

/** GET overrides S3 honours (response-content-type=… answers with that Content-Type). */
const RESPONSE_OVERRIDES = ['content-type', 'content-language', 'expires', 'cache-control', 'content-disposition', 'content-encoding'] as const;

/** The versionId query parameter, checked as S3 checks it, or undefined when absent. */
function versionIdOf(request: S3Request): string | undefined {
  if (!request.query.has('versionId')) return undefined;
  const id = request.query.get('versionId') ?? '';
  if (id === '') throw invalidArgument('Version id cannot be the empty string', 'versionId', '');
  if (!isWellFormedVersionId(id)) throw invalidArgument('Invalid version id specified', 'versionId', id);
  return id;
}

function contentEncodingOf(request: S3Request): string | undefined {
  const encodings = (headerOf(request, 'content-encoding') ?? '').split(',').map((part) => part.trim()).filter((part) => part !== '' && part !== 'aws-chunked');
  return encodings.length > 0 ? encodings.join(',') : undefined;
}

/** Storage class and server-side encryption of a write, validated; S3 encrypts with SSE-S3 when none is asked. */
function placementHeaders(request: S3Request): Record<string, string> {
  const headers: Record<string, string> = {};
  const storageClass = headerOf(request, 'x-amz-storage-class');
  if (storageClass !== undefined) {
    if (!STORAGE_CLASSES.has(storageClass)) throw new S3Error('InvalidStorageClass', 400, 'The storage class you specified is not valid', { StorageClassRequested: storageClass });
    if (storageClass !== 'STANDARD') headers['x-amz-storage-class'] = storageClass;
  }
  if (headerOf(request, 'x-amz-server-side-encryption-customer-algorithm') !== undefined) {
    throw invalidRequest('Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.');
  }
  const encryption = headerOf(request, 'x-amz-server-side-encryption') ?? 'AES256';
  if (!ENCRYPTIONS.has(encryption)) throw invalidArgument('Server Side Encryption with the specified algorithm is not supported.', 'x-amz-server-side-encryption', encryption);
  headers['x-amz-server-side-encryption'] = encryption;
  const keyId = headerOf(request, 'x-amz-server-side-encryption-aws-kms-key-id');
  if (keyId !== undefined) {
    if (!encryption.startsWith('aws:kms')) throw invalidArgument('Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms', 'x-amz-server-side-encryption', encryption);
    headers['x-amz-server-side-encryption-aws-kms-key-id'] = keyId;
  }
  return headers;
}

/** Content headers and user metadata from a PUT (or a copy that replaces them). */
function describedBy(request: S3Request): { headers: Record<string, string>; metadata: Record<string, string> } {
  const headers: Record<string, string> = {};
  for (const name of CONTENT_HEADERS) {
    const value = headerOf(request, name);
    if (value !== undefined) headers[name] = value;
  }
  const encoding = contentEncodingOf(request);
  if (encoding !== undefined) headers['content-encoding'] = encoding;
  const metadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(request.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[name.slice('x-amz-meta-'.length)] = text;
    bytes += Buffer.byteLength(name.slice('x-amz-meta-'.length)) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES) throw new S3Error('MetadataTooLarge', 400, 'Your metadata headers exceed the maximum allowed metadata size.', { Size: String(bytes), MaxSizeAllowed: String(MAX_METADATA_BYTES) });
  return { headers, metadata };
}

/** The version-id header S3 sends: for every version once the bucket has been versioned. */
function versionHeader(bucket: BucketState, versionId: string): Record<string, string> {
  return bucket.versioning === 'Unversioned' ? {} : { 'x-amz-version-id': versionId };
}

function objectHeaders(bucket: BucketState, version: ObjectVersion): Record<string, string> {
  const headers: Record<string, string> = {
    'content-type': 'binary/octet-stream',
    ...version.headers,
    'last-modified': new Date(version.lastModified).toUTCString(),
    etag: `"${version.etag}"`,
    'accept-ranges': 'bytes',
    ...versionHeader(bucket, version.versionId),
  };
  for (const [name, value] of Object.entries(version.metadata)) headers[`x-amz-meta-${name}`] = value;
  return headers;
}

type Range = { readonly start: number; readonly end: number };

/** A single `bytes=` range; S3 answers anything else it cannot use (several ranges, bad syntax) with the whole object. */
function rangeOf(value: string | undefined, size: number): Range | 'unsatisfiable' | undefined {
  const match = value === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(value.trim());
  if (!match) return undefined;
  const [, from = '', to = ''] = match;
  if (from === '' && to === '') return undefined;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(from);
  if (to !== '' && Number(to) < start) return undefined;
  if (start >= size) return 'unsatisfiable';
  return { start, end: Math.min(to === '' ? size - 1 : Number(to), size - 1) };
}

function etagMatches(list: string, etag: string): boolean {
  return list.split(',').some((candidate) => {
    const trimmed = candidate.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '').replace(/"/g, '') === etag;
  });
}

const preconditionFailed = (condition: string): S3Error => new S3Error('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold', { Condition: condition });

/**
 * If-Match / If-Unmodified-Since fail with 412, If-None-Match / If-Modified-Since answer 304, in the order and
 * with the precedence RFC 7232 and S3 give them. `prefix` is 'x-amz-copy-source-' for a copy's source, where a
 * failed condition of either kind is a 412.
 */
function checkConditions(request: S3Request, version: ObjectVersion, prefix = ''): Reply | undefined {
  const ifMatch = headerOf(request, `${prefix}if-match`);
  const ifNoneMatch = headerOf(request, `${prefix}if-none-match`);
  const ifModifiedSince = headerOf(request, `${prefix}if-modified-since`);
  const ifUnmodifiedSince = headerOf(request, `${prefix}if-unmodified-since`);
  const modified = Math.floor(version.lastModified / 1000) * 1000;
  if (ifMatch !== undefined && !etagMatches(ifMatch, version.etag)) throw preconditionFailed(`${prefix}If-Match`);
  if (ifMatch === undefined && ifUnmodifiedSince !== undefined && !Number.isNaN(Date.parse(ifUnmodifiedSince)) && modified > Date.parse(ifUnmodifiedSince)) {
    throw preconditionFailed(`${prefix}If-Unmodified-Since`);
  }
  const notModified =
    (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, version.etag)) ||
    (ifNoneMatch === undefined && ifModifiedSince !== undefined && !Number.isNaN(Date.parse(ifModifiedSince)) && modified <= Date.parse(ifModifiedSince));
  if (!notModified) return undefined;
  if (prefix !== '') throw preconditionFailed(`${prefix}${ifNoneMatch !== undefined ? 'If-None-Match' : 'If-Modified-Since'}`);
  return { status: 304, headers: { etag: `"${version.etag}"`, 'last-modified': new Date(version.lastModified).toUTCString() } };
}

/** `bucket/key[?versionId=…]`, percent-encoded, with or without a leading slash. */
function parseCopySource(value: string): { bucket: string; key: string; versionId: string | undefined } {
  const question = value.indexOf('?');
  const path = decodePercent(question < 0 ? value : value.slice(0, question), 'x-amz-copy-source').replace(/^\//, '');
  const params = new URLSearchParams(question < 0 ? '' : value.slice(question + 1));
  const slash = path.indexOf('/');
  if (slash <= 0 || slash === path.length - 1) throw invalidArgument('Invalid copy source object key', 'x-amz-copy-source', value);
  let versionId: string | undefined;
  if (params.has('versionId')) {
    versionId = params.get('versionId') ?? '';
    if (!isWellFormedVersionId(versionId)) throw invalidArgument('Invalid version id specified', 'x-amz-copy-source', value);
  }
  return { bucket: path.slice(0, slash), key: checkKey(path.slice(slash + 1)), versionId };
}

/** Object-level operations on a versioned store: PUT, COPY, GET, HEAD, DELETE and DeleteObjects. */
export class ObjectOperations {
  constructor(
    private readonly catalog: Catalog,
    private readonly blobs: BlobStore,
    private readonly onObjectCreated: (object: ObjectCreated) => void,
  ) {}

  private bucket(name: string): BucketState {
    const bucket = this.catalog.bucket(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }

  /** The version a GET/HEAD means: the one asked for, or the latest (a delete marker there is NoSuchKey). */
  private resolve(bucket: BucketState, key: string, versionId: string | undefined): ObjectVersion {
    const versions = bucket.keys.get(key) ?? [];
    if (versionId === undefined) {
      const latest = versions[0];
      if (!latest) throw noSuchKey(key);
      if (latest.deleteMarker) throw noSuchKey(key, { 'x-amz-delete-marker': 'true', ...versionHeader(bucket, latest.versionId) });
      return latest;
    }
    const version = versions.find((candidate) => candidate.versionId === versionId);
    if (!version) throw noSuchVersion(key, versionId);
    if (version.deleteMarker) {
      throw new S3Error('MethodNotAllowed', 405, 'The specified method is not allowed against this resource.', { Method: 'GET', ResourceType: 'DeleteMarker' }, {
        'x-amz-delete-marker': 'true',
        'x-amz-version-id': version.versionId,
        'last-modified': new Date(version.lastModified).toUTCString(),
        allow: 'DELETE',
      });
    }
    return version;
  }

  /** Makes `version` the newest of `key`, frees the bytes of a null version it replaces. */
  private async commit(bucket: BucketState, key: string, version: ObjectVersion): Promise<void> {
    const replaced = await this.catalog.put(bucket.name, key, version);
    if (replaced?.blob) await this.blobs.remove(replaced.blob);
  }

  /**
   * A new version of `key`: its bytes written to a new blob by `write` (the upload noted as begun first, so a
   * restart can name it if a kill cuts it short), then committed, then announced: synchronously, before the
   * caller answers the request.
   */
  private async create(
    bucket: BucketState,
    key: string,
    eventName: 'ObjectCreated:Put' | 'ObjectCreated:Copy',
    write: (blob: string) => Promise<Pick<ObjectVersion, 'size' | 'etag' | 'checksum' | 'headers' | 'metadata'>>,
  ): Promise<ObjectVersion> {
    const blob = BlobStore.newId();
    this.catalog.begin(bucket.name, key, blob);
    let written;
    try {
      written = await write(blob);
    } catch (error) {
      this.catalog.abort(blob);
      throw error;
    }
    const version: ObjectVersion = { versionId: Catalog.newVersionId(bucket), deleteMarker: false, blob, lastModified: Date.now(), ...written };
    await this.commit(bucket, key, version);
    this.onObjectCreated({ bucket: bucket.name, key, eventName, size: version.size, eTag: version.etag, versionId: versionHeader(bucket, version.versionId)['x-amz-version-id'] });
    return version;
  }

  async put(request: S3Request): Promise<Reply> {
    const bucket = this.bucket(request.bucket);
    const key = checkKey(request.key);
    const placement = placementHeaders(request);
    const described = describedBy(request);
    const version = await this.create(bucket, key, 'ObjectCreated:Put', async (blob) => {
      const body = await storeBody(request.body, request.headers, this.blobs, blob);
      return { size: body.size, etag: body.md5, checksum: body.checksum, headers: { ...described.headers, ...placement }, metadata: described.metadata };
    });
    return {
      status: 200,
      headers: {
        etag: `"${version.etag}"`,
        ...placement,
        ...(version.checksum ? { [`x-amz-checksum-${version.checksum.algorithm.toLowerCase()}`]: version.checksum.value } : {}),
        ...versionHeader(bucket, version.versionId),
      },
    };
  }

  async copy(request: S3Request, copySource: string): Promise<Reply> {
    const bucket = this.bucket(request.bucket);
    const key = checkKey(request.key);
    const source = parseCopySource(copySource);
    const sourceBucket = this.bucket(source.bucket);
    const sourceVersions = sourceBucket.keys.get(source.key) ?? [];
    let from: ObjectVersion | undefined;
    if (source.versionId === undefined) {
      from = sourceVersions[0];
      if (!from || from.deleteMarker) throw noSuchKey(source.key);
    } else {
      from = sourceVersions.find((candidate) => candidate.versionId === source.versionId);
      if (!from) throw noSuchVersion(source.key, source.versionId);
      if (from.deleteMarker) throw invalidRequest('The source of a copy request may not specifically refer to a delete marker by version id.');
    }
    checkConditions(request, from, 'x-amz-copy-source-');
    const directive = headerOf(request, 'x-amz-metadata-directive') ?? 'COPY';
    if (directive !== 'COPY' && directive !== 'REPLACE') throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
    const placement = placementHeaders(request);
    const ontoItself = sourceBucket === bucket && source.key === key && from === sourceVersions[0];
    const changesSomething =
      directive === 'REPLACE' ||
      ['x-amz-storage-class', 'x-amz-server-side-encryption', 'x-amz-website-redirect-location'].some((name) => headerOf(request, name) !== undefined);
    if (ontoItself && !changesSomething) {
      throw invalidRequest(
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    const described =
      directive === 'REPLACE'
        ? describedBy(request)
        : { headers: Object.fromEntries(Object.entries(from.headers).filter(([name]) => !name.startsWith('x-amz-server-side-encryption') && name !== 'x-amz-storage-class')), metadata: from.metadata };
    const original = from;
    const version = await this.create(bucket, key, 'ObjectCreated:Copy', async (blob) => {
      await this.blobs.copy(original.blob as string, blob);
      return { size: original.size, etag: original.etag, checksum: original.checksum, headers: { ...described.headers, ...placement }, metadata: described.metadata };
    });
    return {
      status: 200,
      headers: {
        ...XML,
        ...placement,
        ...versionHeader(bucket, version.versionId),
        ...(sourceBucket.versioning === 'Unversioned' ? {} : { 'x-amz-copy-source-version-id': from.versionId }),
      },
      body: xmlDocument('CopyObjectResult', [
        ['LastModified', new Date(version.lastModified).toISOString()],
        ['ETag', `"${version.etag}"`],
        ...(version.checksum ? [[`Checksum${version.checksum.algorithm}`, version.checksum.value] as XmlNode] : []),
      ]),
    };
  }

  /** GET and HEAD: the same answer, HEAD without the bytes. */
  read(request: S3Request, withBody: boolean): Reply {
    const bucket = this.bucket(request.bucket);
    const key = checkKey(request.key);
    const version = this.resolve(bucket, key, versionIdOf(request));
    const notModified = checkConditions(request, version);
    if (notModified) return notModified;
    const headers = objectHeaders(bucket, version);
    for (const name of RESPONSE_OVERRIDES) {
      const override = request.query.get(`response-${name}`);
      if (override !== null) headers[name] = override;
    }
    const partNumber = request.query.get('partNumber');
    if (partNumber !== null && partNumber !== '1') throw new S3Error('InvalidPartNumber', 416, 'The requested partnumber is not satisfiable', { PartNumberRequested: partNumber, ActualPartCount: '1' });
    const range = rangeOf(headerOf(request, 'range'), version.size);
    if (range === 'unsatisfiable') {
      throw new S3Error('InvalidRange', 416, 'The requested range is not satisfiable', { RangeRequested: headerOf(request, 'range') ?? '', ActualObjectSize: String(version.size) }, { 'content-range': `bytes */${version.size}` });
    }
    if (range) {
      return {
        status: 206,
        headers: { ...headers, 'content-length': String(range.end - range.start + 1), 'content-range': `bytes ${range.start}-${range.end}/${version.size}` },
        ...(withBody ? { body: this.blobs.read(version.blob as string, range) } : {}),
      };
    }
    if (version.checksum && headerOf(request, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED') {
      headers[`x-amz-checksum-${version.checksum.algorithm.toLowerCase()}`] = version.checksum.value;
      headers['x-amz-checksum-type'] = 'FULL_OBJECT';
    }
    return {
      status: 200,
      headers: { ...headers, 'content-length': String(version.size) },
      ...(withBody && version.size > 0 ? { body: this.blobs.read(version.blob as string) } : {}),
    };
  }

  /**
   * DELETE as a versioned bucket does it: without a version id a delete marker becomes the latest version
   * (S3 adds one even when the key has no version); with one, that version is removed for good.
   */
  private async deleteOne(bucket: BucketState, key: string, versionId: string | undefined): Promise<{ versionId: string | undefined; deleteMarker: boolean }> {
    const versions = bucket.keys.get(key) ?? [];
    if (versionId !== undefined) {
      const version = versions.find((candidate) => candidate.versionId === versionId);
      if (version) {
        await this.catalog.remove(bucket.name, key, versionId);
        if (version.blob) await this.blobs.remove(version.blob);
      }
      return { versionId, deleteMarker: version?.deleteMarker ?? false };
    }
    if (bucket.versioning === 'Unversioned') {
      const current = versions.find((candidate) => candidate.versionId === 'null');
      if (current) {
        await this.catalog.remove(bucket.name, key, 'null');
        if (current.blob) await this.blobs.remove(current.blob);
      }
      return { versionId: undefined, deleteMarker: false };
    }
    const marker: ObjectVersion = { versionId: Catalog.newVersionId(bucket), deleteMarker: true, size: 0, etag: '', lastModified: Date.now(), headers: {}, metadata: {} };
    await this.commit(bucket, key, marker);
    return { versionId: marker.versionId, deleteMarker: true };
  }

  async delete(request: S3Request): Promise<Reply> {
    const bucket = this.bucket(request.bucket);
    const key = checkKey(request.key);
    const outcome = await this.deleteOne(bucket, key, versionIdOf(request));
    return {
      status: 204,
      headers: {
        ...(outcome.versionId === undefined ? {} : { 'x-amz-version-id': outcome.versionId }),
        ...(outcome.deleteMarker ? { 'x-amz-delete-marker': 'true' } : {}),
      },
    };
  }

  /** DeleteObjects: up to 1 000 keys (and versions) in one request, each answered Deleted or Error. */
  async deleteMany(request: S3Request): Promise<Reply> {
    const bucket = this.bucket(request.bucket);
    const { bytes, digested } = await readSmallBody(request.body, request.headers, 2 * 1024 * 1024);
    if (!digested) throw invalidRequest('Missing required header for this request: Content-MD5 (or an x-amz-checksum-* header)');
    const document = parseXml(bytes.toString('utf8'));
    if (document.name !== 'Delete') throw malformedXml();
    const objects = document.children.filter((child) => child.name === 'Object');
    if (objects.length === 0 || objects.length > 1000) throw malformedXml();
    const quiet = childText(document, 'Quiet') === 'true';
    const results: XmlNode[] = [];
    for (const object of objects) {
      const key = childText(object, 'Key');
      if (key === undefined) throw malformedXml();
      const versionId = childText(object, 'VersionId');
      try {
        checkKey(key);
        if (versionId !== undefined && !isWellFormedVersionId(versionId)) throw noSuchVersion(key, versionId);
        const outcome = await this.deleteOne(bucket, key, versionId);
        if (quiet) continue;
        results.push([
          'Deleted',
          [
            ['Key', key],
            ['VersionId', versionId],
            ['DeleteMarker', outcome.deleteMarker ? true : undefined],
            ['DeleteMarkerVersionId', outcome.deleteMarker ? outcome.versionId : undefined],
          ],
        ]);
      } catch (error) {
        if (!(error instanceof S3Error)) throw error;
        results.push(['Error', [['Key', key], ['VersionId', versionId], ['Code', error.code], ['Message', error.message]]]);
      }
    }
    return { status: 200, headers: XML, body: xmlDocument('DeleteResult', results) };
  }
}
