/*
 * Request validation for the local Step Functions endpoint, with the service's error codes and messages
 * (awsJson1.0: HTTP 400 and `{"__type": code, "message": …}`, which the SDKs turn into their exception classes).
 */

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type Body = Readonly<Record<string, unknown>>;

function constraint(field: string, value: string | number | undefined, rule: string): ApiError {
  const shown = value === undefined ? 'null' : `'${String(value)}'`;
  return new ApiError('ValidationException', `1 validation error detected: Value ${shown} at '${field}' failed to satisfy constraint: ${rule}`);
}

function wrongType(field: string, expected: string): ApiError {
  return new ApiError('SerializationException', `'${field}' must be ${expected}`);
}

export function optionalString(body: Body, field: string, max: number): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw wrongType(field, 'a string');
  if (value.length > max) throw constraint(field, value, `Member must have length less than or equal to ${max}`);
  return value;
}

export function requiredString(body: Body, field: string, max: number): string {
  const value = optionalString(body, field, max);
  if (value === undefined) throw constraint(field, value, 'Member must not be null');
  if (value === '') throw constraint(field, value, 'Member must have length greater than or equal to 1');
  return value;
}

export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw wrongType(field, 'a boolean');
  return value;
}

/** `maxResults`: 0 to 1 000, 0 or absent meaning the service's default of 100. */
export function pageSize(body: Body): number {
  const value = body.maxResults;
  if (value === undefined || value === null) return 100;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType('maxResults', 'an integer');
  if (value > 1000) throw constraint('maxResults', value, 'Member must have value less than or equal to 1000');
  if (value < 0) throw constraint('maxResults', value, 'Member must have value greater than or equal to 0');
  return value === 0 ? 100 : value;
}

export function enumValue<T extends string>(body: Body, field: string, values: readonly T[]): T | undefined {
  const value = optionalString(body, field, 256);
  if (value === undefined) return undefined;
  if (!(values as readonly string[]).includes(value)) throw constraint(field, value, `Member must satisfy enum value set: [${values.join(', ')}]`);
  return value as T;
}

/** A name of an execution or state machine: 1–80 characters, none of the ones the service refuses. */
export function validName(name: string): boolean {
  // Whitespace, brackets, wildcards, the listed punctuation and control characters are refused.
  let control = false;
  for (let index = 0; index < name.length; index += 1) {
    const code = name.charCodeAt(index);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) control = true;
  }
  return name.length >= 1 && name.length <= 80 && !control && !/[\s<>{}[\]?*"#%\\^|~`$&,;:/]/u.test(name);
}

export type ArnKind = 'stateMachine' | 'execution';

const ARN = /^arn:(aws[a-z-]*):states:([a-z0-9-]+):(\d{12}):([A-Za-z]+):(.+)$/;

/** Checks an ARN's shape and kind as the service does before it looks the resource up. */
export function requireArn(value: string, kind: ArnKind): void {
  if (!value.startsWith('arn:')) throw new ApiError('InvalidArn', `Invalid Arn: 'Invalid ARN prefix: ${value}'`);
  const match = ARN.exec(value);
  if (!match) throw new ApiError('InvalidArn', `Invalid Arn: '${value}'`);
  const [, , , , type = '', resource = ''] = match;
  if (type !== kind) throw new ApiError('InvalidArn', `Invalid Arn: 'Resource type not valid in this context: ${type}'`);
  const parts = resource.split(':');
  const expected = kind === 'execution' ? 2 : 1;
  if (parts.length !== expected || !parts.every(validName)) throw new ApiError('InvalidArn', `Invalid Arn: '${value}'`);
}

/*
 * Page tokens: opaque to the caller, bound to the request they continue (another state machine, filter or order
 * is an InvalidToken, as "keep all other arguments unchanged" requires) and valid for 24 hours, as the service's.
 */

const TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;

interface TokenContent {
  /** What the token continues: operation and the arguments that must not change. */
  readonly scope: string;
  /** Where the next page starts. */
  readonly after: string;
  readonly issued: number;
}

export function issueToken(scope: string, after: string, now: number): string {
  return Buffer.from(JSON.stringify({ scope, after, issued: now } satisfies TokenContent)).toString('base64url');
}

/** The position a token continues from; InvalidToken for a token this request did not issue, or an expired one. */
export function readToken(token: string, scope: string, now: number): string {
  let content: Partial<TokenContent>;
  try {
    content = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<TokenContent>;
  } catch {
    throw new ApiError('InvalidToken', `Invalid Token: '${token}'`);
  }
  if (content.scope !== scope || typeof content.after !== 'string' || typeof content.issued !== 'number') throw new ApiError('InvalidToken', `Invalid Token: '${token}'`);
  if (now - content.issued > TOKEN_LIFETIME_MS) throw new ApiError('InvalidToken', `Invalid Token: 'The token has expired: ${token}'`);
  return content.after;
}
