import type { Context } from 'aws-lambda';
import { deployedRuntime } from '../lib/composition.js';
import { buildGauges } from '../lib/functions/operations.js';
import type { Gauges } from '../lib/gauges.js';

/** Every few minutes (EventBridge Scheduler): the gauges the PENDING-age and serving-time alarms watch. */
const entry = buildGauges(deployedRuntime(), process.env);

// The entry is awaited here so stack traces keep a frame in this file, as the deployed function's entry point.
export const handler = async (event: unknown, context: Context): Promise<Gauges> => {
  const result = await entry(event, context);
  return result;
};
