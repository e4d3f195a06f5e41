import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { documentClient, rekognitionClient } from '../lib/clients.js';
import { loadGaugesConfig } from '../lib/config.js';
import { readGauges } from '../lib/gauges.js';
import type { Gauges } from '../lib/gauges.js';
import { logger, metrics } from '../lib/observability.js';

const config = loadGaugesConfig();

const deps = { documents: documentClient, rekognition: rekognitionClient, ...config };

/** Every few minutes (EventBridge Scheduler): the gauges the PENDING-age and serving-time alarms watch. */
export const handler = async (_event: unknown, context: Context): Promise<Gauges> => {
  logger.addContext(context);
  const gauges = await readGauges(deps);
  metrics.addMetric('OldestPendingAgeSeconds', MetricUnit.Seconds, gauges.oldestPendingAgeSeconds);
  metrics.addMetric('PendingImages', MetricUnit.Count, gauges.pendingImages);
  metrics.addMetric('BillingInferenceUnits', MetricUnit.Count, gauges.inferenceUnits);
  metrics.publishStoredMetrics();
  // The oldest waiting key is an identifier: logged like classify logs keys, never an image's content.
  logger.info('gauges', { ...gauges });
  return gauges;
};
