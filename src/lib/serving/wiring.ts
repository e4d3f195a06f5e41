import { SFNClient } from '@aws-sdk/client-sfn';
import { documentClient } from '../clients.js';
import { ConfigError } from '../errors.js';
import { logger } from '../observability.js';
import { servingHook } from './classify-hook.js';
import type { ServingHook } from './classify-hook.js';
import { loadServingPolicy } from './config.js';
import { ServingControl } from './control.js';
import { ServingStore } from './store.js';

type Env = Readonly<Record<string, string | undefined>>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(name, 'is not set');
  return value;
}

/** The container's serving control, from the environment (read once, at cold start). */
export function servingControl(env: Env = process.env, options: { readonly canStart: boolean; readonly canStop: boolean }): ServingControl {
  let sfn: SFNClient | undefined;
  return new ServingControl({
    store: new ServingStore(documentClient, required(env, 'REGISTRY_TABLE')),
    sfn: () => (sfn ??= new SFNClient({ maxAttempts: 5 })),
    startMachineArn: options.canStart ? required(env, 'START_MODEL_STATE_MACHINE_ARN') : '',
    ...(options.canStop ? { stopMachineArn: required(env, 'STOP_MODEL_STATE_MACHINE_ARN') } : {}),
    policy: loadServingPolicy(env),
    logger,
  });
}

/** classify: on-demand start (when the stage turns it on) and usage marks. */
export function classifyServing(env: Env = process.env): ServingHook {
  const policy = loadServingPolicy(env);
  return servingHook(servingControl(env, { canStart: policy.onDemandStart, canStop: false }), logger, { startOnDemand: policy.onDemandStart });
}

/** redrive: usage marks only; it answers images for a start that is already running. */
export function redriveServing(env: Env = process.env): ServingHook {
  return servingHook(servingControl(env, { canStart: false, canStop: false }), logger, { startOnDemand: false });
}
