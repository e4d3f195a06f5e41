/**
 * An S3 error answer: the code, HTTP status and message S3 documents for it, plus the extra elements S3 puts in
 * the error document (Key, VersionId, ArgumentName…), so the SDK raises the class it models for that code.
 */
export class S3Error extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    readonly details: Readonly<Record<string, string>> = {},
    /** Headers S3 sends with this error (x-amz-delete-marker on a key whose latest version is a marker). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
    this.name = 'S3Error';
  }
}

export const noSuchBucket = (bucket: string): S3Error => new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket });

export const noSuchKey = (key: string, headers: Record<string, string> = {}): S3Error =>
  new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }, headers);

export const noSuchVersion = (key: string, versionId: string): S3Error =>
  new S3Error('NoSuchVersion', 404, 'The specified version does not exist.', { Key: key, VersionId: versionId });

export const invalidArgument = (message: string, name?: string, value?: string): S3Error =>
  new S3Error('InvalidArgument', 400, message, name === undefined ? {} : { ArgumentName: name, ArgumentValue: value ?? '' });

export const invalidRequest = (message: string): S3Error => new S3Error('InvalidRequest', 400, message);

export const malformedXml = (): S3Error =>
  new S3Error('MalformedXML', 400, 'The XML you provided was not well-formed or did not validate against our published schema');

export const notImplemented = (what: string): S3Error =>
  new S3Error('NotImplemented', 501, `A header or query you provided implies functionality that is not implemented (${what})`);

export const internalError = (): S3Error => new S3Error('InternalError', 500, 'We encountered an internal error. Please try again.');
