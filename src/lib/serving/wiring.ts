import type { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { clientConfig } from '../composition.js';
import type { Env, Runtime } from '../composition.js';
import { requiredVariable } from '../env.js';
import { servingHook } from './classify-hook.js';
import type { ServingHook } from './classify-hook.js';
import { loadServingPolicy } from './config.js';
import { ServingControl } from './control.js';
import { ServingStore } from './store.js';

/** What serving needs of a function's runtime: the registry table's client, the logger and where Step Functions is. */
export type ServingRuntime = Pick<Runtime, 'documents' | 'logger' | 'clientSettings'>;

/** The container's serving control, from the environment (read once, at cold start). */
export function servingControl(runtime: ServingRuntime, env: Env, options: { readonly canStart: boolean; readonly canStop: boolean }): ServingControl {
  let sfn: Promise<{ client: SFNClient; StartExecutionCommand: typeof StartExecutionCommand }> | undefined;
  return new ServingControl({
    store: new ServingStore(runtime.documents, requiredVariable(env, 'REGISTRY_TABLE')),
    // Loaded on the first start or stop request: most containers never make one, and cold start stays small.
    startExecution: async (request) => {
      sfn ??= import('@aws-sdk/client-sfn').then((module) => ({ client: new module.SFNClient(clientConfig(runtime.clientSettings, 'sfn')), StartExecutionCommand: module.StartExecutionCommand }));
      const { client, StartExecutionCommand: Command } = await sfn;
      return (await client.send(new Command(request))).executionArn;
    },
    startMachineArn: options.canStart ? requiredVariable(env, 'START_MODEL_STATE_MACHINE_ARN') : '',
    ...(options.canStop ? { stopMachineArn: requiredVariable(env, 'STOP_MODEL_STATE_MACHINE_ARN') } : {}),
    policy: loadServingPolicy(env),
    logger: runtime.logger,
  });
}

/** classify: on-demand start (when the stage turns it on) and usage marks. */
export function classifyServing(runtime: ServingRuntime, env: Env): ServingHook {
  const policy = loadServingPolicy(env);
  return servingHook(servingControl(runtime, env, { canStart: policy.onDemandStart, canStop: false }), runtime.logger, { startOnDemand: policy.onDemandStart });
}

/** redrive: usage marks only; it answers images for a start that is already running. */
export function redriveServing(runtime: ServingRuntime, env: Env): ServingHook {
  return servingHook(servingControl(runtime, env, { canStart: false, canStop: false }), runtime.logger, { startOnDemand: false });
}
