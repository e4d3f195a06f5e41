import * as z from 'zod/mini';

/*
 * zod's mini build: the same schemas as `zod`, about 20 KB minified instead of 470 KB, so classify.zip and the
 * cold start stay within their goals. Every schema names its field and the value in its own message, because
 * those messages are what an operator reads in a failed execution or a CLI error.
 */

/** `got <value>` as the messages write it. */
export function shown(value: unknown): string {
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/**
 * The parsed value, or the caller's error built from one issue (its message and where it is): a problem with the
 * whole value (not an object, unknown fields) before one with a field, so the message says first what is most wrong.
 */
export function parseWith<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  toError: (message: string, path: readonly PropertyKey[]) => Error,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const { issues } = result.error;
  const issue = issues.find((candidate) => candidate.path.length === 0) ?? issues[0];
  throw toError(issue?.message ?? 'is not valid', issue?.path ?? []);
}

/** A field that is a string when present and is read as absent otherwise: a hint, never a reason to fail. */
export function looseString(): z.ZodMiniCatch<z.ZodMiniOptional<z.ZodMiniString>> {
  return z.catch(z.optional(z.string()), undefined);
}

/** A finite number when present, absent otherwise (the service's numbers are optional facts). */
export function looseNumber(): z.ZodMiniCatch<z.ZodMiniOptional<z.ZodMiniNumber>> {
  return z.catch(z.optional(z.number()), undefined);
}

const PlainObjectSchema = z.record(z.string(), z.unknown());

/** An object that is not an array or null: for lists that mix entries with things to leave out. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return PlainObjectSchema.safeParse(value).success;
}
