import { ConfigError } from './errors.js';

/*
 * How every Lambda reads its environment: a loader lists its variables in one object of settings and gets them
 * checked and typed at cold start, the first wrong one a ConfigError that names it and says the value as it was
 * set. Unset and blank are the same (a stage parameter left empty); text is trimmed.
 *
 * Hand-written on purpose, with s3-event.ts and model-registry.ts: classify loads its config and the serving
 * policy through this module at cold start, and zod on that path costs more than the goal of 1.15× the
 * client-only floor allows: with these settings as zod schemas, classify's import took 1.09× as long as without
 * (median of 21 fresh-process imports interleaved with the floor, 2026-12-01, on a loaded machine where classify
 * without zod measured 1.26× and with zod 1.50× the floor; zod mini adds 20 KB to the bundle). Environment values
 * are all strings, so a setting is just a function from the text to the value.
 */

/** The process environment, or a test's stand-in. */
export type Env = Readonly<Record<string, string | undefined>>;

/** One variable: its text (undefined when unset) in, the checked value out; a bad value throws `problem`. */
export type Setting<T> = (raw: string | undefined) => T;

/** What a setting found wrong; parseEnv names the variable. */
class SettingProblem extends Error {
  override readonly name = 'SettingProblem';
}

function problem(message: string): never {
  throw new SettingProblem(message);
}

/** The value as set, or undefined when unset or blank. */
function setValue(raw: string | undefined): string | undefined {
  return raw?.trim() ? raw : undefined;
}

/** A variable the function cannot run without. */
export function requiredText(): Setting<string> {
  return (raw) => setValue(raw)?.trim() ?? problem('is not set');
}

export function optionalText(): Setting<string | undefined> {
  return (raw) => setValue(raw)?.trim();
}

/** A number from `min` to `max` (a whole one with `whole`); unset is undefined. */
export function optionalNumber(min: number, max: number, options: { readonly whole?: boolean } = {}): Setting<number | undefined> {
  return (raw) => {
    const text = setValue(raw);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min || value > max) problem(`must be a number from ${min} to ${max}, got "${text.trim()}"`);
    if (options.whole && !Number.isInteger(value)) problem(`must be a whole number, got "${text}"`);
    return value;
  };
}

/** A number from `min` to `max`, `fallback` when unset. */
export function numberSetting(min: number, max: number, fallback: number, options: { readonly whole?: boolean } = {}): Setting<number> {
  const read = optionalNumber(min, max, options);
  return (raw) => read(raw) ?? fallback;
}

/** `true` or `false` in any case, `fallback` when unset. */
export function flagSetting(fallback: boolean): Setting<boolean> {
  return (raw) => {
    const text = setValue(raw)?.trim().toLowerCase();
    if (text === undefined) return fallback;
    if (text !== 'true' && text !== 'false') problem(`must be true or false, got "${raw ?? ''}"`);
    return text === 'true';
  };
}

/** The raw value (unset or not) read by a domain parser, whose `failure`'s message becomes the variable's. */
export function parsedSetting<T>(parse: (raw: string | undefined) => T, failure: abstract new (...args: never[]) => Error): Setting<T> {
  return (raw) => {
    try {
      return parse(raw);
    } catch (error) {
      if (error instanceof failure) problem(error.message);
      throw error;
    }
  };
}

export type Settings<S> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Every variable of `settings` read in their order: the first that is wrong throws a ConfigError naming it. */
export function parseEnv<S extends Readonly<Record<string, Setting<unknown>>>>(settings: S, env: Env): Settings<S> {
  const values: Record<string, unknown> = {};
  for (const [name, read] of Object.entries(settings)) {
    try {
      values[name] = read(env[name]);
    } catch (error) {
      if (error instanceof SettingProblem) throw new ConfigError(name, error.message);
      throw error;
    }
  }
  return values as Settings<S>;
}

/** One variable the function cannot run without. */
export function requiredVariable(env: Env, name: string): string {
  const value = setValue(env[name])?.trim();
  if (value === undefined) throw new ConfigError(name, 'is not set');
  return value;
}
