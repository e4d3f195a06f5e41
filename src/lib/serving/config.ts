import { flagSetting, numberSetting, parseEnv, parsedSetting } from '../env.js';
import type { Env } from '../env.js';
import { checkTimeZone, DEFAULT_POLICY, parseQuietHours, ServingPolicyError } from './policy.js';
import type { ServingPolicy } from './policy.js';

const MINUTE = 60_000;

/**
 * The stage's serving policy from the environment classify and the serving check share (the stage parameters
 * `onDemandStart`, `idleStopMinutes`, `quietHours`, `dailyCapHours`, `scheduleTimeZone`).
 */
export function loadServingPolicy(env: Env = process.env): ServingPolicy {
  const settings = parseEnv(
    {
      DAILY_CAP_HOURS: numberSetting(0, 24, 0),
      MAX_START_MINUTES: numberSetting(1, 24 * 60, 60),
      ON_DEMAND_START: flagSetting(DEFAULT_POLICY.onDemandStart),
      // Fractions of a minute are for the local stage, whose emulator starts in seconds.
      IDLE_STOP_MINUTES: numberSetting(0, 24 * 60, DEFAULT_POLICY.idleStopMs / MINUTE),
      USAGE_MARK_SECONDS: numberSetting(1, 3600, DEFAULT_POLICY.usageMarkMs / 1000),
      START_RETRY_MINUTES: numberSetting(0, 24 * 60, DEFAULT_POLICY.startRetryMs / MINUTE),
      QUIET_HOURS: parsedSetting(parseQuietHours, ServingPolicyError),
      SERVING_TIME_ZONE: parsedSetting((raw) => checkTimeZone(raw?.trim() || DEFAULT_POLICY.timeZone), ServingPolicyError),
    },
    env,
  );
  return {
    onDemandStart: settings.ON_DEMAND_START,
    idleStopMs: settings.IDLE_STOP_MINUTES * MINUTE,
    usageMarkMs: settings.USAGE_MARK_SECONDS * 1000,
    // A start request is abandoned once its start could not have taken longer: the start machine's own bound.
    requestTimeoutMs: (settings.MAX_START_MINUTES + 10) * MINUTE,
    startRetryMs: settings.START_RETRY_MINUTES * MINUTE,
    quietHours: settings.QUIET_HOURS,
    dailyCapMs: settings.DAILY_CAP_HOURS > 0 ? settings.DAILY_CAP_HOURS * 60 * MINUTE : undefined,
    timeZone: settings.SERVING_TIME_ZONE,
  };
}
