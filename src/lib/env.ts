import * as z from 'zod/mini';
import { ConfigError } from './errors.js';
import { parseWith } from './schema.js';

/*
 * The schema of one environment variable of each kind. A loader names its variables in one object of these and
 * gets them checked and typed in one parse at cold start. Unset and blank are the same (a stage parameter left
 * empty); values are trimmed; every message names the variable (ConfigError) and says the value as it was set.
 * The schemas are built by functions, not at module scope, so a bundle carries only the loaders it calls.
 */

/** The process environment, or a test's stand-in. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One variable's schema: its text (or undefined when unset) in, the checked value out. */
export type Setting<T> = z.ZodMiniType<T, string | undefined>;

/** The value as set, or undefined when unset or blank. */
function setValue(): z.ZodMiniType<string | undefined, string | undefined> {
  return z.pipe(z.optional(z.string()), z.transform((raw) => (raw?.trim() ? raw : undefined)));
}

/** A variable the function cannot run without. */
export function requiredText(): Setting<string> {
  return z.pipe(setValue(), z.pipe(z.string({ error: 'is not set' }), z.transform((raw) => raw.trim())));
}

export function optionalText(): Setting<string | undefined> {
  return z.pipe(setValue(), z.transform((raw) => raw?.trim()));
}

/** A number from `min` to `max` (a whole one with `whole`); unset is undefined. */
export function optionalNumber(min: number, max: number, options: { readonly whole?: boolean } = {}): Setting<number | undefined> {
  const inRange = z.refine<string>((raw) => {
    const value = Number(raw);
    return Number.isFinite(value) && value >= min && value <= max;
  }, { error: (issue) => `must be a number from ${min} to ${max}, got "${String(issue.input).trim()}"`, abort: true });
  const whole = z.refine<string>((raw) => Number.isInteger(Number(raw)), { error: (issue) => `must be a whole number, got "${String(issue.input)}"` });
  const number = z.pipe(z.string().check(...(options.whole ? [inRange, whole] : [inRange])), z.transform(Number));
  return z.pipe(setValue(), z.optional(number));
}

/** A number from `min` to `max`, `fallback` when unset. */
export function numberSetting(min: number, max: number, fallback: number, options: { readonly whole?: boolean } = {}): Setting<number> {
  return z.pipe(optionalNumber(min, max, options), z.transform((value) => value ?? fallback));
}

/** `true` or `false` in any case, `fallback` when unset. */
export function flagSetting(fallback: boolean): Setting<boolean> {
  const flag = z.pipe(
    z.string().check(z.refine((raw) => /^(true|false)$/i.test(raw.trim()), { error: (issue) => `must be true or false, got "${String(issue.input)}"` })),
    z.transform((raw) => raw.trim().toLowerCase() === 'true'),
  );
  return z.pipe(setValue(), z.pipe(z.optional(flag), z.transform((value) => value ?? fallback)));
}

/** The variable's raw value (unset or not) read by a domain parser whose `Failure`'s message becomes the variable's. */
export function parsedSetting<T>(parse: (raw: string | undefined) => T, failure: abstract new (...args: never[]) => Error): Setting<T> {
  return z.pipe(
    z.optional(z.string()),
    z.transform((raw, context) => {
      try {
        return parse(raw);
      } catch (error) {
        if (!(error instanceof failure)) throw error;
        context.issues.push({ code: 'custom', message: error.message, input: raw });
        return z.NEVER;
      }
    }),
  );
}

/** Every variable of `settings` checked, in their order: the first that is wrong throws a ConfigError naming it. */
export function parseEnv<S extends Readonly<Record<string, Setting<unknown>>>>(settings: S, env: Env): z.output<z.ZodMiniObject<S>> {
  return parseWith(z.object(settings), env, (message, path) => new ConfigError(String(path[0]), message));
}
