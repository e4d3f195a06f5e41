import { deployedRuntime } from '../lib/composition.js';
import { loadRedriveConfig } from '../lib/config.js';
import { redriveFunction } from '../lib/functions/redrive.js';

/** Start path, after promotion: classify one page of images that waited for a model. */
export const handler = redriveFunction(deployedRuntime(), loadRedriveConfig());
