import { deployedRuntime } from '../lib/composition.js';
import { loadClassifyConfig } from '../lib/config.js';
import { classifyFunction } from '../lib/functions/classify.js';

/** S3 ObjectCreated notifications for `inbox/` → one result row per image. Config is read and checked at cold start. */
export const handler = classifyFunction(deployedRuntime(), loadClassifyConfig());
