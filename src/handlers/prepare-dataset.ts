import { deployedRuntime } from '../lib/composition.js';
import { loadTrainingConfig } from '../lib/config.js';
import { prepareDatasetFunction } from '../lib/functions/training.js';

/** Train-and-deploy, first step: validate the input, take the lock, write the manifests, return the plan. */
export const handler = prepareDatasetFunction(deployedRuntime(), loadTrainingConfig());
