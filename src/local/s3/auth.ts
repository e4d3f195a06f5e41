import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.js';

export interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

const accessDenied = (): S3Error => new S3Error('AccessDenied', 403, 'Access Denied');

/**
 * The access key a request is made with: from a SigV4 Authorization header, a presigned URL's X-Amz-Credential,
 * or a SigV2 header. The bucket is private, as the deployed one is: an anonymous request is AccessDenied and an
 * unknown key InvalidAccessKeyId. Signatures are read, not verified: this stand-in checks who asks, not that
 * the request is untampered (loopback only).
 */
export function authenticate(headers: IncomingHttpHeaders, query: URLSearchParams, known: readonly Credentials[]): Credentials {
  const authorization = headers.authorization ?? '';
  const credential = query.get('X-Amz-Credential');
  let accessKeyId: string | undefined;
  if (authorization.startsWith('AWS4-HMAC-SHA256 ')) accessKeyId = /Credential=([^/,\s]+)\//.exec(authorization)?.[1];
  else if (authorization.startsWith('AWS ')) accessKeyId = /^AWS ([^:]+):/.exec(authorization)?.[1];
  else if (credential !== null) accessKeyId = credential.split('/')[0];
  else if (query.get('AWSAccessKeyId') !== null) accessKeyId = query.get('AWSAccessKeyId') ?? undefined;
  else if (authorization !== '') throw new S3Error('InvalidArgument', 400, 'Unsupported Authorization Type', { ArgumentName: 'Authorization', ArgumentValue: authorization.slice(0, 40) });
  if (accessKeyId === undefined) {
    if (authorization === '' && credential === null) throw accessDenied();
    throw new S3Error('AuthorizationHeaderMalformed', 400, 'The authorization header is malformed; the Credential is mal-formed.');
  }
  const found = known.find((candidate) => candidate.accessKeyId === accessKeyId);
  if (!found) throw new S3Error('InvalidAccessKeyId', 403, 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: accessKeyId });
  return found;
}
