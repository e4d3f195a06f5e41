import type { FunctionBuilder } from '../composition.js';
import { buildClassify } from './classify.js';
import { buildGauges, buildServingCheck } from './operations.js';
import { buildRedrive } from './redrive.js';
import { buildEvaluate, buildPlanStart, buildPrepareDataset, buildPromote, buildRecordOutcome } from './training.js';

/**
 * Every Lambda by its `handler` setting in serverless.yml (the template's `Handler`): how the local stack and the
 * tests build a function. Each src/handlers file builds its own with the same builder, from the deployed runtime
 * and process.env; it imports only its builder's module, so a bundle holds one function's code.
 */
export const FUNCTION_BUILDERS: Readonly<Record<string, FunctionBuilder>> = {
  'src/handlers/classify.handler': buildClassify,
  'src/handlers/redrive.handler': buildRedrive,
  'src/handlers/prepare-dataset.handler': buildPrepareDataset,
  'src/handlers/evaluate.handler': buildEvaluate,
  'src/handlers/plan-start.handler': buildPlanStart,
  'src/handlers/promote.handler': buildPromote,
  'src/handlers/record-outcome.handler': buildRecordOutcome,
  'src/handlers/gauges.handler': buildGauges,
  'src/handlers/serving-check.handler': buildServingCheck,
};
