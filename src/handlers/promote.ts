import { deployedRuntime } from '../lib/composition.js';
import { loadRegistryConfig } from '../lib/config.js';
import { promoteFunction } from '../lib/functions/training.js';

/** Start path: make the running version the one classify uses; return the one it replaced. */
export const handler = promoteFunction(deployedRuntime(), loadRegistryConfig());
