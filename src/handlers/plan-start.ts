import { deployedRuntime } from '../lib/composition.js';
import { loadStartConfig } from '../lib/config.js';
import { planStartFunction } from '../lib/functions/training.js';

/** Start path, first step: which version to start and with how many inference units. */
export const handler = planStartFunction(deployedRuntime(), loadStartConfig());
