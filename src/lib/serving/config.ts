import { ConfigError } from '../errors.js';
import { checkTimeZone, DEFAULT_POLICY, parseQuietHours, ServingPolicyError } from './policy.js';
import type { ServingPolicy } from './policy.js';

type Env = Readonly<Record<string, string | undefined>>;

const MINUTE = 60_000;

function number(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max) throw new ConfigError(name, `must be a number from ${min} to ${max}, got "${raw}"`);
  return value;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (raw !== 'true' && raw !== 'false') throw new ConfigError(name, `must be true or false, got "${env[name] ?? ''}"`);
  return raw === 'true';
}

function policyPart<T>(name: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof ServingPolicyError) throw new ConfigError(name, error.message);
    throw error;
  }
}

/**
 * The stage's serving policy from the environment classify and the serving check share (the stage parameters
 * `onDemandStart`, `idleStopMinutes`, `quietHours`, `dailyCapHours`, `scheduleTimeZone`).
 */
export function loadServingPolicy(env: Env = process.env): ServingPolicy {
  const capHours = number(env, 'DAILY_CAP_HOURS', 0, 0, 24);
  // A start request is abandoned once its start could not have taken longer: the start machine's own bound.
  const maxStartMinutes = number(env, 'MAX_START_MINUTES', 60, 1, 24 * 60);
  return {
    onDemandStart: flag(env, 'ON_DEMAND_START', DEFAULT_POLICY.onDemandStart),
    // Fractions of a minute are for the local stage, whose emulator starts in seconds.
    idleStopMs: number(env, 'IDLE_STOP_MINUTES', DEFAULT_POLICY.idleStopMs / MINUTE, 0, 24 * 60) * MINUTE,
    usageMarkMs: number(env, 'USAGE_MARK_SECONDS', DEFAULT_POLICY.usageMarkMs / 1000, 1, 3600) * 1000,
    requestTimeoutMs: (maxStartMinutes + 10) * MINUTE,
    startRetryMs: number(env, 'START_RETRY_MINUTES', DEFAULT_POLICY.startRetryMs / MINUTE, 0, 24 * 60) * MINUTE,
    quietHours: policyPart('QUIET_HOURS', () => parseQuietHours(env.QUIET_HOURS)),
    dailyCapMs: capHours > 0 ? capHours * 60 * MINUTE : undefined,
    timeZone: policyPart('SERVING_TIME_ZONE', () => checkTimeZone(env.SERVING_TIME_ZONE?.trim() || DEFAULT_POLICY.timeZone)),
  };
}
