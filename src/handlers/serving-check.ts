import type { Context } from 'aws-lambda';
import { documentClient } from '../lib/clients.js';
import { ConfigError } from '../lib/errors.js';
import { logger } from '../lib/observability.js';
import { pendingWorkProbe, runServingCheck } from '../lib/serving/check.js';
import type { CheckReport } from '../lib/serving/check.js';
import { servingControl } from '../lib/serving/wiring.js';

const resultsTable = process.env.RESULTS_TABLE?.trim();
if (!resultsTable) throw new ConfigError('RESULTS_TABLE', 'is not set');

const deps = { control: servingControl(process.env, { canStart: true, canStop: true }), pendingWork: pendingWorkProbe(documentClient, resultsTable) };

/** Every few minutes: stop an idle or capped model, start a stopped one for images that still wait. */
export const handler = async (_event: unknown, context: Context): Promise<CheckReport> => {
  logger.addContext(context);
  const report = await runServingCheck(deps);
  if (report.verdict.action !== 'none') logger.info('serving check acted', { ...report });
  return report;
};
