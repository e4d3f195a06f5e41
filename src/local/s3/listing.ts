import type { BucketState, ObjectVersion } from './catalog.js';
import { isWellFormedVersionId, lowerBound } from './catalog.js';
import { invalidArgument } from './errors.js';
import { compareKeys } from './keys.js';
import { encodeNotificationKey } from '../s3-notifications.js';
import { xmlDocument } from './xml.js';
import type { XmlNode } from './xml.js';

/** The canonical owner every local object has (S3 shows the bucket owner's canonical id). */
export const LOCAL_OWNER: XmlNode[] = [
  ['ID', '75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a'],
  ['DisplayName', 'local'],
];

export interface ListingQuery {
  readonly prefix: string;
  readonly delimiter: string;
  readonly maxKeys: number;
  /** EncodingType=url: keys and prefixes in the answer are URL-encoded. */
  readonly encode: boolean;
}

const LIMIT = 1000;

/** MaxKeys as S3 takes it: a non-negative integer, at most 1 000 answered (larger asks are capped). */
export function parseMaxKeys(value: string | null): number {
  if (value === null) return LIMIT;
  if (!/^\d+$/.test(value)) throw invalidArgument('Provided max-keys not an integer or within integer range', 'max-keys', value);
  return Math.min(Number(value), LIMIT);
}

export function parseEncodingType(value: string | null): boolean {
  if (value === null) return false;
  if (value !== 'url') throw invalidArgument('Invalid Encoding Method specified in Request', 'encoding-type', value);
  return true;
}

/** What a key rolls up into under `delimiter` after `prefix`, or undefined when it lists as itself. */
function commonPrefixOf(key: string, query: ListingQuery): string | undefined {
  if (query.delimiter === '') return undefined;
  const at = key.indexOf(query.delimiter, query.prefix.length);
  return at < 0 ? undefined : key.slice(0, at + query.delimiter.length);
}

type Entry = { readonly kind: 'key'; readonly key: string } | { readonly kind: 'prefix'; readonly prefix: string };

/**
 * Walks the keys after `after` under the query's prefix, rolling keys up into common prefixes, and yields
 * each entry once: a key (for which `include` said yes) or a common prefix (that holds at least one such key).
 * An entry not after `after` (a common prefix the previous page ended on) is not yielded again.
 */
function* entries(bucket: BucketState, query: ListingQuery, after: string, include: (key: string) => boolean): Generator<Entry> {
  const start = compareKeys(after, query.prefix) >= 0 ? after : query.prefix;
  let lastPrefix: string | undefined;
  for (let i = lowerBound(bucket.sorted, start); i < bucket.sorted.length; i++) {
    const key = bucket.sorted[i] as string;
    if (!key.startsWith(query.prefix)) return;
    if (lastPrefix !== undefined && key.startsWith(lastPrefix)) continue;
    const prefix = commonPrefixOf(key, query);
    if (prefix !== undefined) {
      if (compareKeys(prefix, after) <= 0 && after !== '') {
        lastPrefix = prefix;
        continue;
      }
      // A prefix whose keys are all deleted is not listed; find one that is not.
      let holds = false;
      for (let j = i; j < bucket.sorted.length && (bucket.sorted[j] as string).startsWith(prefix); j++) {
        if (include(bucket.sorted[j] as string)) {
          holds = true;
          break;
        }
      }
      lastPrefix = prefix;
      if (holds) yield { kind: 'prefix', prefix };
      continue;
    }
    if (compareKeys(key, after) <= 0 && after !== '') continue;
    if (include(key)) yield { kind: 'key', key };
  }
}

const latestObject = (bucket: BucketState, key: string): ObjectVersion | undefined => {
  const latest = bucket.keys.get(key)?.[0];
  return latest && !latest.deleteMarker ? latest : undefined;
};

interface Page {
  readonly keys: string[];
  readonly prefixes: string[];
  readonly truncated: boolean;
  /** The last entry answered (key or common prefix): where the next page starts after. */
  readonly last: string | undefined;
}

function currentPage(bucket: BucketState, query: ListingQuery, after: string): Page {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let last: string | undefined;
  let truncated = false;
  for (const entry of entries(bucket, query, after, (key) => latestObject(bucket, key) !== undefined)) {
    if (keys.length + prefixes.length >= query.maxKeys) {
      truncated = query.maxKeys > 0;
      break;
    }
    if (entry.kind === 'key') keys.push(entry.key);
    else prefixes.push(entry.prefix);
    last = entry.kind === 'key' ? entry.key : entry.prefix;
  }
  return { keys, prefixes, truncated, last };
}

const TOKEN_TAG = 'pneumo-s3:1:';

function encodeToken(last: string): string {
  return Buffer.from(`${TOKEN_TAG}${last}`, 'utf8').toString('base64url');
}

/** A token this server issued, else InvalidArgument as S3 answers for one it did not. */
function decodeToken(token: string): string {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  if (token === '' || Buffer.from(text, 'utf8').toString('base64url') !== token || !text.startsWith(TOKEN_TAG)) {
    throw invalidArgument('The continuation token provided is incorrect', 'continuation-token', token);
  }
  return text.slice(TOKEN_TAG.length);
}

function encoder(query: ListingQuery): (text: string) => string {
  return query.encode ? encodeNotificationKey : (text) => text;
}

function objectNodes(key: string, version: ObjectVersion, encode: (text: string) => string, owner: boolean): XmlNode[] {
  return [
    ['Key', encode(key)],
    ['LastModified', new Date(version.lastModified).toISOString()],
    ['ETag', `"${version.etag}"`],
    ...(version.checksum ? [['ChecksumAlgorithm', version.checksum.algorithm] as XmlNode] : []),
    ['Size', version.size],
    ['Owner', owner ? LOCAL_OWNER : undefined],
    ['StorageClass', version.headers['x-amz-storage-class'] ?? 'STANDARD'],
  ];
}

export function listObjectsV2(bucket: BucketState, query: ListingQuery, options: { readonly token: string | null; readonly startAfter: string; readonly fetchOwner: boolean }): string {
  const after = options.token === null ? options.startAfter : decodeToken(options.token);
  const page = currentPage(bucket, query, after);
  const encode = encoder(query);
  return xmlDocument('ListBucketResult', [
    ['Name', bucket.name],
    ['Prefix', encode(query.prefix)],
    ['Delimiter', query.delimiter === '' ? undefined : encode(query.delimiter)],
    ['MaxKeys', query.maxKeys],
    ['EncodingType', query.encode ? 'url' : undefined],
    ['KeyCount', page.keys.length + page.prefixes.length],
    ['IsTruncated', page.truncated],
    ['ContinuationToken', options.token ?? undefined],
    ['NextContinuationToken', page.truncated && page.last !== undefined ? encodeToken(page.last) : undefined],
    ['StartAfter', options.startAfter === '' ? undefined : encode(options.startAfter)],
    ...page.keys.map((key): XmlNode => ['Contents', objectNodes(key, latestObject(bucket, key) as ObjectVersion, encode, options.fetchOwner)]),
    ...page.prefixes.map((prefix): XmlNode => ['CommonPrefixes', [['Prefix', encode(prefix)]]]),
  ]);
}

/** ListObjects (v1): a Marker instead of a token; NextMarker only when a delimiter is given, as S3 does. */
export function listObjectsV1(bucket: BucketState, query: ListingQuery, marker: string): string {
  const page = currentPage(bucket, query, marker);
  const encode = encoder(query);
  return xmlDocument('ListBucketResult', [
    ['Name', bucket.name],
    ['Prefix', encode(query.prefix)],
    ['Marker', encode(marker)],
    ['NextMarker', page.truncated && query.delimiter !== '' && page.last !== undefined ? encode(page.last) : undefined],
    ['MaxKeys', query.maxKeys],
    ['Delimiter', query.delimiter === '' ? undefined : encode(query.delimiter)],
    ['EncodingType', query.encode ? 'url' : undefined],
    ['IsTruncated', page.truncated],
    ...page.keys.map((key): XmlNode => ['Contents', objectNodes(key, latestObject(bucket, key) as ObjectVersion, encode, true)]),
    ...page.prefixes.map((prefix): XmlNode => ['CommonPrefixes', [['Prefix', encode(prefix)]]]),
  ]);
}

/**
 * ListObjectVersions: every version and delete marker, keys in order and each key's versions newest first;
 * a page can end inside a key's versions, and continues from KeyMarker + VersionIdMarker.
 */
export function listObjectVersions(bucket: BucketState, query: ListingQuery, keyMarker: string, versionIdMarker: string | null): string {
  if (versionIdMarker !== null && keyMarker === '') throw invalidArgument('A version-id marker cannot be specified without a key marker.', 'version-id-marker', versionIdMarker);
  if (versionIdMarker !== null && !isWellFormedVersionId(versionIdMarker)) throw invalidArgument('Invalid version id specified', 'version-id-marker', versionIdMarker);
  const encode = encoder(query);
  type Item = { readonly kind: 'version'; readonly key: string; readonly version: ObjectVersion; readonly latest: boolean } | { readonly kind: 'prefix'; readonly prefix: string };
  function* items(): Generator<Item> {
    // Versions of the marker key after the marker version come first; then the keys after it.
    const markerVersions = versionIdMarker === null ? [] : (bucket.keys.get(keyMarker) ?? []);
    const resumeAt = markerVersions.findIndex((v) => v.versionId === versionIdMarker);
    if (resumeAt >= 0) for (const version of markerVersions.slice(resumeAt + 1)) yield { kind: 'version', key: keyMarker, version, latest: false };
    for (const entry of entries(bucket, query, keyMarker, (key) => bucket.keys.has(key))) {
      if (entry.kind === 'prefix') yield entry;
      else for (const [index, version] of (bucket.keys.get(entry.key) ?? []).entries()) yield { kind: 'version', key: entry.key, version, latest: index === 0 };
    }
  }
  const page: Item[] = [];
  let truncated = false;
  for (const item of items()) {
    if (page.length >= query.maxKeys) {
      truncated = query.maxKeys > 0;
      break;
    }
    page.push(item);
  }
  const versionNodes = (key: string, version: ObjectVersion, latest: boolean): XmlNode =>
    version.deleteMarker
      ? ['DeleteMarker', [['Key', encode(key)], ['VersionId', version.versionId], ['IsLatest', latest], ['LastModified', new Date(version.lastModified).toISOString()], ['Owner', LOCAL_OWNER]]]
      : [
          'Version',
          [
            ['Key', encode(key)],
            ['VersionId', version.versionId],
            ['IsLatest', latest],
            ['LastModified', new Date(version.lastModified).toISOString()],
            ['ETag', `"${version.etag}"`],
            ['Size', version.size],
            ['Owner', LOCAL_OWNER],
            ['StorageClass', version.headers['x-amz-storage-class'] ?? 'STANDARD'],
          ],
        ];
  const last = page.at(-1);
  const nextKey = last === undefined ? undefined : last.kind === 'prefix' ? last.prefix : last.key;
  const nextVersion = last?.kind === 'version' ? last.version.versionId : undefined;
  const nodes = page.flatMap((item): XmlNode[] => (item.kind === 'version' ? [versionNodes(item.key, item.version, item.latest)] : []));
  const prefixNodes = page.flatMap((item): XmlNode[] => (item.kind === 'prefix' ? [['CommonPrefixes', [['Prefix', encode(item.prefix)]]]] : []));
  return xmlDocument('ListVersionsResult', [
    ['Name', bucket.name],
    ['Prefix', encode(query.prefix)],
    ['KeyMarker', encode(keyMarker)],
    ['VersionIdMarker', versionIdMarker ?? ''],
    ['NextKeyMarker', truncated && nextKey !== undefined ? encode(nextKey) : undefined],
    ['NextVersionIdMarker', truncated && nextVersion !== undefined ? nextVersion : undefined],
    ['MaxKeys', query.maxKeys],
    ['Delimiter', query.delimiter === '' ? undefined : encode(query.delimiter)],
    ['EncodingType', query.encode ? 'url' : undefined],
    ['IsTruncated', truncated],
    ...nodes,
    ...prefixNodes,
  ]);
}
