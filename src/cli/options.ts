import { InvalidArgumentError } from 'commander';
import type { ResultStatus } from '../lib/outcomes.js';
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

/** Seconds as a number of seconds (`2`, `0.5`) or with a unit (`500ms`, `30s`, `10m`, `2h`), returned in ms. */
export function interval(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('Expected a duration such as 2s, 500ms, 10m or 1h.');
  const unit = match[2] ?? 's';
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit] ?? 1000;
  const ms = Number(match[1]) * factor;
  if (ms <= 0) throw new InvalidArgumentError('Expected a duration above zero.');
  return ms;
}

const RELATIVE = /^(\d+)(m|h|d|w)$/;
const RELATIVE_MS: Readonly<Record<string, number>> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * A point in time: relative to now (`30m`, `24h`, `7d`, `2w` ago) or an ISO date/time (`2026-11-24`,
 * `2026-11-24T08:00:00Z`). Returned as the ISO string the results table sorts by.
 */
export function pointInTime(now: () => number = Date.now): (value: string) => string {
  return (value) => {
    const text = value.trim();
    const relative = RELATIVE.exec(text);
    if (relative) return new Date(now() - Number(relative[1]) * (RELATIVE_MS[relative[2] ?? 'h'] ?? 0)).toISOString();
    if (/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
      const date = new Date(text.length === 10 ? `${text}T00:00:00Z` : text);
      if (!Number.isNaN(date.getTime())) return date.toISOString();
    }
    throw new InvalidArgumentError('Expected a time such as 24h, 30m, 7d (ago) or an ISO date/time like 2026-11-24T08:00:00Z.');
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

/** A reviewer's name as stored on each decision: printable, at most 200 characters. */
export function reviewerName(value: string): string {
  const text = value.trim();
  if (text === '' || text.length > 200 || /[\p{Cc}]/u.test(text)) throw new InvalidArgumentError('Expected a name of 1–200 printable characters, e.g. dr-jones.');
  return text;
}
