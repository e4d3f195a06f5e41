import type { S3Event, S3EventRecord } from 'aws-lambda';
import { resourcesOfType, TemplateError } from './template.js';
import type { CfnTemplate } from './template.js';
import type { ObjectCreated } from './s3/objects.js';

/** One LambdaConfiguration of a bucket's NotificationConfiguration, as the template deploys it. */
export interface NotificationRule {
  readonly bucketLogicalId: string;
  readonly event: string;
  readonly prefix: string;
  readonly suffix: string;
  /** Logical id of the AWS::Lambda::Function the notification invokes. */
  readonly functionLogicalId: string;
}

interface RawLambdaConfiguration {
  Event?: unknown;
  Function?: unknown;
  Filter?: { S3Key?: { Rules?: { Name?: unknown; Value?: unknown }[] } };
}

function functionLogicalId(target: unknown): string {
  const getAtt = (target as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  throw new TemplateError(`notification target ${JSON.stringify(target)} is not a Fn::GetAtt of a function`);
}

export function notificationRules(template: CfnTemplate): NotificationRule[] {
  return resourcesOfType(template, 'AWS::S3::Bucket').flatMap(([bucketLogicalId, bucket]) => {
    const configuration = bucket.Properties?.NotificationConfiguration as { LambdaConfigurations?: RawLambdaConfiguration[] } | undefined;
    return (configuration?.LambdaConfigurations ?? []).map((raw) => {
      const rules = raw.Filter?.S3Key?.Rules ?? [];
      const value = (name: string): string => {
        const found = rules.find((rule) => String(rule.Name).toLowerCase() === name)?.Value;
        return typeof found === 'string' ? found : '';
      };
      return {
        bucketLogicalId,
        event: String(raw.Event),
        prefix: value('prefix'),
        suffix: value('suffix'),
        functionLogicalId: functionLogicalId(raw.Function),
      };
    });
  });
}

/** S3's matching: event type with `*` wildcard, then case-sensitive prefix and suffix on the decoded key. */
export function ruleMatches(rule: NotificationRule, eventName: string, key: string): boolean {
  const wanted = rule.event.replace(/^s3:/, '');
  const eventMatches = wanted.endsWith(':*') ? eventName.startsWith(wanted.slice(0, -1)) : eventName === wanted;
  return eventMatches && key.startsWith(rule.prefix) && key.endsWith(rule.suffix);
}

/** Encodes a key the way S3 notifications do: URL-encoded, space as `+`, `/` kept. */
export function encodeNotificationKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

/**
 * Increasing sequencers for one process, from the clock: two uploads of one key in the same millisecond still
 * get different ones, so neither looks like a duplicate delivery of the other.
 */
export class SequencerClock {
  private last = 0n;

  next(now: number = Date.now()): string {
    const candidate = BigInt(now) * 1_000_000n;
    this.last = candidate > this.last ? candidate : this.last + 1n;
    return this.last.toString(16).toUpperCase().padStart(18, '0');
  }
}

/** A notification record with the shape real S3 sends, for one matched rule. */
export function notificationRecord(object: ObjectCreated, sequencer: string, region: string, configurationId: string): S3EventRecord {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: region,
    eventTime: new Date().toISOString(),
    eventName: object.eventName,
    userIdentity: { principalId: 'AWS:LOCAL' },
    requestParameters: { sourceIPAddress: '127.0.0.1' },
    responseElements: { 'x-amz-request-id': sequencer, 'x-amz-id-2': 'local' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId,
      bucket: { name: object.bucket, ownerIdentity: { principalId: 'LOCAL' }, arn: `arn:aws:s3:::${object.bucket}` },
      object: {
        key: encodeNotificationKey(object.key),
        size: object.size,
        eTag: object.eTag ?? '',
        ...(object.versionId ? { versionId: object.versionId } : {}),
        sequencer,
      },
    },
  };
}

export function singleRecordEvent(record: S3EventRecord): S3Event {
  return { Records: [record] };
}
