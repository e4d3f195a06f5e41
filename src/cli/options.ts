import { InvalidArgumentError } from 'commander';
import type { ResultStatus } from '../lib/result-status.js';
import { DATASET_ROOTS, VERSION_NAME } from '../lib/training/input.js';

/*
 * Argument parsers for commander's argParser: each returns the parsed value or throws InvalidArgumentError, which
 * commander reports as `error: option '--x <n>' argument 'y' is invalid. <our message>` with exit code 2.
 */

export const STATUSES: readonly ResultStatus[] = ['CLASSIFIED', 'NEEDS_REVIEW', 'PENDING', 'REJECTED', 'FAILED'];

export function integerIn(min: number, max: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return parsed;
  };
}

export function fraction(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new InvalidArgumentError('Expected a number from 0 to 1 (e.g. 0.9).');
  }
  return parsed;
}

export function nonNegativeNumber(value: string): number {
  const parsed = Number(value);
  if (value.trim() === '' || !Number.isFinite(parsed) || parsed < 0) throw new InvalidArgumentError('Expected a number of at least 0.');
  return parsed;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * The one grammar for durations, for pauses and timeouts as for "ago" times: a number with a unit (`500ms`,
 * `30s`, `10m`, `2h`, `7d`, `2w`); a bare number is taken in `bareUnit` when one is given. Returns ms, or
 * undefined when the text is not a duration.
 */
function parseDuration(value: string, bareUnit?: 's'): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(value.trim());
  const unit = match?.[2] ?? bareUnit;
  if (!match || unit === undefined) return undefined;
  return Number(match[1]) * (UNIT_MS[unit] ?? 0);
}

function describeMs(ms: number): string {
  const unit = (['w', 'd', 'h', 'm', 's'] as const).find((u) => ms % (UNIT_MS[u] ?? 1) === 0) ?? 'ms';
  return `${ms / (UNIT_MS[unit] ?? 1)}${unit}`;
}

/**
 * A pause or a timeout, as a number of seconds (`2`, `0.5`) or with a unit, returned in ms: above zero and at most
 * `maxMs` (the pause is a timer, and Node fires a timer above 24.8 days at once).
 */
export function duration(maxMs: number): (value: string) => number {
  return (value) => {
    const ms = parseDuration(value, 's');
    if (ms === undefined) throw new InvalidArgumentError('Expected a duration such as 2s, 500ms, 10m or 1h.');
    if (ms <= 0) throw new InvalidArgumentError('Expected a duration above zero.');
    if (ms > maxMs) throw new InvalidArgumentError(`Expected a duration of at most ${describeMs(maxMs)}.`);
    return ms;
  };
}

/** Pauses between polls. */
export const interval = duration(UNIT_MS.h ?? 3_600_000);
/** How long `submit --wait` follows its uploads. */
export const waitTimeout = duration(UNIT_MS.d ?? 86_400_000);

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** An ISO date or date-time whose every field is in range, or undefined; `2026-02-30` is not silently March 2. */
function parseIsoTime(text: string): Date | undefined {
  const match = ISO_TIME.exec(text);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((group) => Number(match[group] ?? 0)) as [number, number, number, number, number, number];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) return undefined;
  const zone = match[7];
  if (zone !== undefined && zone !== 'Z' && (Number(zone.slice(1, 3)) > 23 || Number(zone.slice(-2)) > 59)) return undefined;
  // A date alone is midnight UTC; a time without a zone is local, as ISO 8601 and Date read it.
  const date = new Date(match[4] === undefined ? `${text}T00:00:00Z` : text.replace(' ', 'T'));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/**
 * A point in time: relative to now (`30m`, `24h`, `7d`, `2w` ago) or an ISO date/time (`2026-11-24`,
 * `2026-11-24T08:00:00Z`). Returned as the ISO string the results table sorts by, so it must lie after 1970
 * (and the text must be a real date).
 */
export function pointInTime(now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const text = value.trim();
    const ago = parseDuration(text);
    if (ago !== undefined) {
      const at = now() - ago;
      if (!(at >= 0)) throw new InvalidArgumentError(`${text} ago is before 1970; expected a time such as 24h, 7d or 2w.`);
      return new Date(at).toISOString();
    }
    const date = parseIsoTime(text);
    if (date) return date.toISOString();
    throw new InvalidArgumentError('Expected a time such as 24h, 30m, 7d (ago) or a real ISO date/time like 2026-11-24T08:00:00Z.');
  };
}

/**
 * A time still to come: a duration from now (`2h`, `90m`, `3d`) or an ISO date/time (`2026-12-02T07:00:00Z`),
 * returned as an ISO string; at most a year ahead (a longer hold is one a user start releases).
 */
export function futureTime(now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const text = value.trim();
    const ahead = parseDuration(text);
    const at = ahead !== undefined ? now() + ahead : parseIsoTime(text)?.getTime();
    if (at === undefined) throw new InvalidArgumentError('Expected a duration from now such as 2h, 90m or 3d, or a real ISO date/time like 2026-12-02T07:00:00Z.');
    if (!(at > now())) throw new InvalidArgumentError(`${new Date(at).toISOString()} is not in the future.`);
    if (at - now() > 366 * (UNIT_MS.d ?? 86_400_000)) throw new InvalidArgumentError('Expected a time at most a year ahead (leave --until out for a hold until `pneumo model start`).');
    return new Date(at).toISOString();
  };
}

export function status(value: string): ResultStatus {
  const upper = value.trim().toUpperCase().replace(/-/g, '_') as ResultStatus;
  if (!STATUSES.includes(upper)) throw new InvalidArgumentError(`Expected one of ${STATUSES.join(', ')}.`);
  return upper;
}

const LABEL = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Labels are folder names of the training set; the model returns them as trained (upper case by convention). */
export function label(value: string): string {
  if (!LABEL.test(value.trim())) throw new InvalidArgumentError('Expected a label name such as PNEUMONIA or NORMAL.');
  return value.trim().toUpperCase();
}

/** A key prefix under the inbox for uploads: no leading slash, no `..`, ends without a slash (one is added). */
export function keyPrefix(value: string): string {
  const text = value.trim().replace(/^\/+|\/+$/g, '');
  if (text === '' || text.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new InvalidArgumentError('Expected a folder such as ward-3 or 2026/11/ward-3.');
  }
  return text;
}

/** The rule the training input applies, so a name the state machine would refuse is refused here. */
export function versionName(value: string): string {
  if (!VERSION_NAME.test(value)) throw new InvalidArgumentError('Expected 1–63 letters, digits, "_", "." or "-", starting with a letter or digit.');
  return value;
}

/** A dataset folder: under training/ or testing/, ending in "/" (added when missing). */
export function datasetPrefix(value: string): string {
  const text = value.endsWith('/') ? value : `${value}/`;
  if (text.includes('..') || !DATASET_ROOTS.some((root) => text.startsWith(root))) {
    throw new InvalidArgumentError(`Expected a folder under ${DATASET_ROOTS.join(' or ')}, e.g. testing/ or training/2026-11/.`);
  }
  return text;
}

/** Why a user holds the model stopped, as stored on the hold: printable, at most 200 characters, no patient data. */
export function holdReason(value: string): string {
  const text = value.trim();
  if (text === '' || text.length > 200 || /[\p{Cc}]/u.test(text)) throw new InvalidArgumentError('Expected 1–200 printable characters, e.g. "scanner maintenance".');
  return text;
}

/** A reviewer's name as stored on each decision: printable, at most 200 characters. */
export function reviewerName(value: string): string {
  const text = value.trim();
  if (text === '' || text.length > 200 || /[\p{Cc}]/u.test(text)) throw new InvalidArgumentError('Expected a name of 1–200 printable characters, e.g. dr-jones.');
  return text;
}
