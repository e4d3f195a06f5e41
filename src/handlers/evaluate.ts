import { deployedRuntime } from '../lib/composition.js';
import { loadRegistryConfig } from '../lib/config.js';
import { evaluateFunction } from '../lib/functions/training.js';

/** Train-and-deploy: read the evaluation summary, apply the gate, record metrics and decision. */
export const handler = evaluateFunction(deployedRuntime(), loadRegistryConfig());
