/*
 * Exit codes scripts can rely on. Every failure the CLI reports maps to one of these, so `pneumo … || handle`
 * can tell "the work failed" from "you typed it wrong" from "there is nothing to talk to".
 */
export const EXIT = {
  ok: 0,
  /** The operation ran and failed: training failed, the gate refused, a result is missing, a file was refused or unreadable. */
  failed: 1,
  /** Bad arguments (commander's usage errors and ours). */
  usage: 2,
  /** No target to talk to: no credentials, stack or bucket not there, local stack not running. */
  unavailable: 3,
  /** Stopped by Ctrl-C (SIGINT) after saying what was done, as shells report a process ended by SIGINT. */
  interrupted: 130,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An argument combination commander cannot check on its own (e.g. two options that exclude each other). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The stage, region or local stack cannot be reached or is not there. */
export class TargetUnavailableError extends Error {
  override readonly name = 'TargetUnavailableError';
}

/** The operation itself failed; the message says what and the exit code is 1. */
export class OperationFailedError extends Error {
  override readonly name = 'OperationFailedError';
}

/** SDK error names that mean "these credentials cannot be used", not "the operation failed". */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);

function networkCode(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  const cause = error.cause;
  return cause instanceof Error ? networkCode(cause) : undefined;
}

/** One line for the user and the exit code that goes with it. */
export function describeError(error: unknown): { readonly message: string; readonly exitCode: ExitCode } {
  if (!(error instanceof Error)) return { message: String(error), exitCode: EXIT.failed };
  if (error instanceof UsageError) return { message: error.message, exitCode: EXIT.usage };
  if (error instanceof TargetUnavailableError) return { message: error.message, exitCode: EXIT.unavailable };
  if (error instanceof OperationFailedError) return { message: error.message, exitCode: EXIT.failed };
  if (CREDENTIAL_ERRORS.has(error.name)) {
    return { message: `AWS credentials are missing or not valid (${firstLine(error.message)}); configure them as the AWS SDK expects (AWS_PROFILE, aws configure, SSO)`, exitCode: EXIT.unavailable };
  }
  if (error.name === 'NoSuchBucket') {
    const bucket = (error as { BucketName?: unknown }).BucketName;
    return { message: `the bucket${typeof bucket === 'string' ? ` ${bucket}` : ''} does not exist: is the stack deployed (or the local stack running) with this stage and region?`, exitCode: EXIT.unavailable };
  }
  if (/region is missing/i.test(error.message)) {
    return { message: 'no AWS region: pass --region or set AWS_REGION', exitCode: EXIT.unavailable };
  }
  const code = networkCode(error);
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'ECONNRESET') {
    return { message: `cannot reach the service (${code}): ${firstLine(error.message)}`, exitCode: EXIT.unavailable };
  }
  return { message: `${error.name}: ${firstLine(error.message)}`, exitCode: EXIT.failed };
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
