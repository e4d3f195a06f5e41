/**
 * The local stack's credentials (S3RVER/S3RVER, what the stack has always used, so existing shells and scripts
 * keep working). The local S3 refuses any other access key; DynamoDB and the emulator accept any.
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
