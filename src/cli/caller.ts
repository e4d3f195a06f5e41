import { userInfo } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { UsageError } from './errors.js';
import type { Target } from './target.js';

/** Who is acting, as stored on what they do (a review decision, a hold): the IAM caller on AWS, else local:<user>. */
export async function callerName(target: Target, remedy?: string): Promise<string> {
  if (target.kind === 'local') return `local:${userInfo().username}`;
  const sts = new STSClient({ region: target.region });
  try {
    const { Arn } = await sts.send(new GetCallerIdentityCommand({}));
    if (!Arn) throw new UsageError(`STS GetCallerIdentity returned no ARN${remedy ? `; ${remedy}` : ''}`);
    return Arn;
  } finally {
    sts.destroy();
  }
}
