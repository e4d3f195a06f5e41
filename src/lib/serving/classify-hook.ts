import type { ResultRow } from '../tables/results.js';
import type { ServingControl, ServingLogger } from './control.js';

/** What classify tells the serving logic about each stored row (one call, after the row is in the table). */
export interface ServingHook {
  afterStore(row: ResultRow, now: number): Promise<void>;
}

/**
 * A PENDING row because the model is stopped asks for an on-demand start (after the row is stored, so the start's
 * re-drive finds it); an answer records use. Best effort: the row is already safe, and the serving check retries
 * a start that could not be asked for.
 */
export function servingHook(control: ServingControl, logger: ServingLogger, options: { readonly startOnDemand: boolean }): ServingHook {
  return {
    async afterStore(row, now) {
      try {
        if (row.status === 'PENDING' && row.reason === 'model-not-running' && options.startOnDemand) {
          const outcome = await control.imageWaiting(now);
          if (outcome.kind === 'requested') logger.info('on-demand start requested', { key: row.imageKey, executionArn: outcome.executionArn });
        } else if ((row.status === 'CLASSIFIED' || row.status === 'NEEDS_REVIEW') && row.modelVersionArn) {
          await control.imageAnswered(row.modelVersionArn, now);
        }
      } catch (error) {
        logger.warn('serving bookkeeping failed', { key: row.imageKey, errorName: error instanceof Error ? error.name : 'unknown' });
      }
    },
  };
}
