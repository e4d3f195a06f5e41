import type { Catalog, VersioningStatus } from './catalog.js';
import { invalidArgument, malformedXml, noSuchBucket, S3Error } from './errors.js';
import { isValidBucketName } from './keys.js';
import { listObjectsV1, listObjectsV2, listObjectVersions, LOCAL_OWNER, parseEncodingType, parseMaxKeys } from './listing.js';
import type { Reply, S3Request } from './request.js';
import { XML } from './request.js';
import { readSmallBody } from './upload.js';
import { childText, parseXml, xmlDocument } from './xml.js';
import type { XmlNode } from './xml.js';

/** Bucket-level operations: create, head, delete, versioning, location, the three listings. */
export class BucketOperations {
  constructor(
    private readonly catalog: Catalog,
    private readonly region: string,
  ) {}

  listBuckets(): Reply {
    const buckets = this.catalog.bucketNames().map((bucket): XmlNode => ['Bucket', [['Name', bucket.name], ['CreationDate', new Date(bucket.createdAt).toISOString()]]]);
    return { status: 200, headers: XML, body: xmlDocument('ListAllMyBucketsResult', [['Owner', LOCAL_OWNER], ['Buckets', buckets]]) };
  }

  async create(request: S3Request): Promise<Reply> {
    if (!isValidBucketName(request.bucket)) throw new S3Error('InvalidBucketName', 400, 'The specified bucket is not valid.', { BucketName: request.bucket });
    await readSmallBody(request.body, request.headers, 64 * 1024);
    if (this.catalog.bucket(request.bucket)) {
      throw new S3Error('BucketAlreadyOwnedByYou', 409, 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: request.bucket });
    }
    await this.catalog.createBucket(request.bucket, 'Unversioned');
    return { status: 200, headers: { location: `/${request.bucket}` } };
  }

  head(request: S3Request): Reply {
    this.existing(request.bucket);
    return { status: 200, headers: { 'x-amz-bucket-region': this.region } };
  }

  async remove(request: S3Request): Promise<Reply> {
    const bucket = this.existing(request.bucket);
    if (bucket.keys.size > 0) throw new S3Error('BucketNotEmpty', 409, 'The bucket you tried to delete is not empty', { BucketName: bucket.name });
    await this.catalog.dropBucket(bucket.name);
    return { status: 204 };
  }

  location(request: S3Request): Reply {
    this.existing(request.bucket);
    const constraint = this.region === 'us-east-1' ? '' : this.region;
    return { status: 200, headers: XML, body: xmlDocument('LocationConstraint', constraint) };
  }

  versioning(request: S3Request): Reply {
    const bucket = this.existing(request.bucket);
    const status = bucket.versioning === 'Unversioned' ? undefined : bucket.versioning;
    return { status: 200, headers: XML, body: xmlDocument('VersioningConfiguration', [['Status', status]]) };
  }

  async putVersioning(request: S3Request): Promise<Reply> {
    const bucket = this.existing(request.bucket);
    const { bytes } = await readSmallBody(request.body, request.headers, 64 * 1024);
    const document = parseXml(bytes.toString('utf8'));
    if (document.name !== 'VersioningConfiguration') throw malformedXml();
    const status = childText(document, 'Status');
    if (status !== 'Enabled' && status !== 'Suspended') throw malformedXml();
    if (childText(document, 'MfaDelete') === 'Enabled') throw invalidArgument('MFA delete is not supported by the local S3', 'MfaDelete', 'Enabled');
    await this.catalog.setVersioning(bucket.name, status satisfies VersioningStatus);
    return { status: 200 };
  }

  list(request: S3Request): Reply {
    const bucket = this.existing(request.bucket);
    const { query } = request;
    const listing = {
      prefix: query.get('prefix') ?? '',
      delimiter: query.get('delimiter') ?? '',
      maxKeys: parseMaxKeys(query.get('max-keys')),
      encode: parseEncodingType(query.get('encoding-type')),
    };
    let body: string;
    if (query.has('versions')) {
      body = listObjectVersions(bucket, listing, query.get('key-marker') ?? '', query.get('version-id-marker'));
    } else if (query.get('list-type') === '2') {
      body = listObjectsV2(bucket, listing, { token: query.get('continuation-token'), startAfter: query.get('start-after') ?? '', fetchOwner: query.get('fetch-owner') === 'true' });
    } else {
      if (query.has('list-type')) throw invalidArgument('Invalid List Type specified in Request', 'list-type', query.get('list-type') ?? '');
      body = listObjectsV1(bucket, listing, query.get('marker') ?? '');
    }
    return { status: 200, headers: XML, body };
  }

  existing(name: string): NonNullable<ReturnType<Catalog['bucket']>> {
    const bucket = this.catalog.bucket(name);
    if (!bucket) throw noSuchBucket(name);
    return bucket;
  }
}
