import { deployedRuntime } from '../lib/composition.js';
import { loadRegistryConfig } from '../lib/config.js';
import { recordOutcomeFunction } from '../lib/functions/training.js';

/** Every state machine's last Task: record how the run ended in the registry and release the training lock. */
export const handler = recordOutcomeFunction(deployedRuntime(), loadRegistryConfig());
