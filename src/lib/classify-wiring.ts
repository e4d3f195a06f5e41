import type { ClassifyDeps } from './classify.js';
import { documentClient, rekognitionClient, s3Client } from './clients.js';
import type { ClassifyConfig } from './config.js';
import { ModelRegistry } from './model-registry.js';
import { logger, metrics } from './observability.js';
import { ResultsTable } from './tables/results.js';

/** Classify's dependencies on the container's clients: shared by the classify and re-drive functions. */
export function classifyDependencies(config: ClassifyConfig): ClassifyDeps {
  return {
    s3: s3Client,
    rekognition: rekognitionClient,
    results: new ResultsTable(documentClient, config.resultsTable),
    registry: new ModelRegistry(documentClient, config.registryTable, config.registryCacheMs),
    reviewThreshold: config.reviewThreshold,
    logger,
    metrics,
  };
}
