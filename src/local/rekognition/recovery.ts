import type { State, Store } from './store.js';
import { INTERRUPTED } from './trainer.js';

/**
 * The state the last run left in `store`, with every transition it could not finish settled, saved back.
 * Real Rekognition keeps a RUNNING model running, so RUNNING stays RUNNING (its weights load on the first call),
 * STARTING finishes as RUNNING and STOPPING as STOPPED; a deleted version is gone. A training job cannot resume
 * (its worker died with the process): it fails with INTERRUPTED, and a new version trains again.
 */
export function recoverState(store: Store): State {
  const state = store.load();
  for (const version of state.versions) {
    if (version.status === 'TRAINING_IN_PROGRESS') {
      version.status = 'TRAINING_FAILED';
      version.statusMessage = INTERRUPTED;
    } else if (version.status === 'STARTING') {
      version.status = 'RUNNING';
      version.statusMessage = 'The model is running.';
    } else if (version.status === 'STOPPING') {
      version.status = 'STOPPED';
      version.statusMessage = 'The model is stopped.';
    }
  }
  state.versions = state.versions.filter((v) => v.status !== 'DELETING');
  store.save(state);
  return state;
}
