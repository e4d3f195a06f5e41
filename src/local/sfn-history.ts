import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { StateMachine } from 'aws-local-stepfunctions';

/*
 * Execution history in the service's shape (HistoryEvent of GetExecutionHistory), built from what
 * aws-local-stepfunctions reports and what the runner's Task handlers see. The names and details follow the
 * API reference and histories recorded from the real service: `<Type>StateEntered`/`Exited` with the state's
 * input and output, `TaskScheduled/Started/Submitted/Succeeded/Failed` with `resourceType`/`resource` for
 * service integrations, `LambdaFunction*` for a Task whose Resource is a function ARN, `Map*`/`Parallel*` for
 * those states. The library reports no retry or catch as events, and neither does the service.
 */

/** One entry of the library's event log (the package does not export the type). */
export type EventLog = ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer Log> ? Log : never;

type Details = Omit<HistoryEvent, 'id' | 'previousEventId' | 'timestamp' | 'type'>;

/** A history event before the store numbers it: `timestamp` in epoch milliseconds. */
export type HistoryEventBody = Details & { readonly type: HistoryEventType; readonly timestamp: number };

/** How a Task's Resource is named in its history events. */
export type TaskResource =
  | { readonly kind: 'lambda'; readonly functionArn: string }
  | { readonly kind: 'service'; readonly resourceType: string; readonly resource: string; readonly region: string };

const NOT_TRUNCATED = { truncated: false } as const;

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function event(type: HistoryEventType, details: Details = {}): HistoryEventBody {
  return { type, timestamp: Date.now(), ...details };
}

export function executionStarted(input: string, roleArn: string): HistoryEventBody {
  return event('ExecutionStarted', { executionStartedEventDetails: { input, inputDetails: NOT_TRUNCATED, roleArn } });
}

export function executionSucceeded(output: string): HistoryEventBody {
  return event('ExecutionSucceeded', { executionSucceededEventDetails: { output, outputDetails: NOT_TRUNCATED } });
}

export function executionFailed(error: string | undefined, cause: string | undefined): HistoryEventBody {
  return event('ExecutionFailed', { executionFailedEventDetails: { error, cause } });
}

export function executionAborted(error: string | undefined, cause: string | undefined): HistoryEventBody {
  return event('ExecutionAborted', { executionAbortedEventDetails: { error, cause } });
}

export function executionTimedOut(error: string | undefined, cause: string | undefined): HistoryEventBody {
  return event('ExecutionTimedOut', { executionTimedOutEventDetails: { error, cause } });
}

/** `TaskStateEntered`, `ChoiceStateEntered`, …: the type of the state prefixes the event type. */
export function stateEntered(name: string, stateType: string, input: unknown): HistoryEventBody {
  return event(`${stateType}StateEntered` as HistoryEventType, { stateEnteredEventDetails: { name, input: json(input), inputDetails: NOT_TRUNCATED } });
}

function stateExited(name: string, stateType: string, output: unknown): HistoryEventBody {
  return event(`${stateType}StateExited` as HistoryEventType, { stateExitedEventDetails: { name, output: json(output), outputDetails: NOT_TRUNCATED } });
}

/** The events one event of the library's log stands for; execution-level events are the store's to write. */
export function fromEventLog(log: EventLog): HistoryEventBody[] {
  switch (log.type) {
    case 'StateEntered': {
      const entered = stateEntered(log.state.name, log.state.type, log.state.input);
      if (log.state.type === 'Map') return [entered, event('MapStateStarted', { mapStateStartedEventDetails: {} })];
      if (log.state.type === 'Parallel') return [entered, event('ParallelStateStarted')];
      return [entered];
    }
    case 'StateExited': {
      const exited = stateExited(log.state.name, log.state.type, log.state.output);
      if (log.state.type === 'Map') return [event('MapStateSucceeded'), exited];
      if (log.state.type === 'Parallel') return [event('ParallelStateSucceeded'), exited];
      return [exited];
    }
    case 'StateFailed':
      // A Task's failure is reported by its handler (TaskFailed, LambdaFunctionFailed); a Fail state's by the
      // execution's end.
      if (log.state.type === 'Map') return [event('MapStateFailed')];
      if (log.state.type === 'Parallel') return [event('ParallelStateFailed')];
      return [];
    case 'MapIterationStarted':
      return [event('MapIterationStarted', { mapIterationStartedEventDetails: { name: log.parentState.name, index: log.index } })];
    case 'MapIterationSucceeded':
      return [event('MapIterationSucceeded', { mapIterationSucceededEventDetails: { name: log.parentState.name, index: log.index } })];
    case 'MapIterationFailed':
      return [event('MapIterationFailed', { mapIterationFailedEventDetails: { name: log.parentState.name, index: log.index } })];
    default:
      return [];
  }
}

export function taskScheduled(resource: TaskResource, parameters: unknown): HistoryEventBody {
  if (resource.kind === 'lambda') {
    return event('LambdaFunctionScheduled', { lambdaFunctionScheduledEventDetails: { resource: resource.functionArn, input: json(parameters), inputDetails: NOT_TRUNCATED } });
  }
  const { resourceType, resource: name, region } = resource;
  return event('TaskScheduled', { taskScheduledEventDetails: { resourceType, resource: name, region, parameters: json(parameters) } });
}

export function taskStarted(resource: TaskResource): HistoryEventBody {
  if (resource.kind === 'lambda') return event('LambdaFunctionStarted');
  return event('TaskStarted', { taskStartedEventDetails: { resourceType: resource.resourceType, resource: resource.resource } });
}

/** For `.sync` integrations: the job was started (its start response) and is now being waited on. */
export function taskSubmitted(resource: TaskResource & { readonly kind: 'service' }, output: unknown): HistoryEventBody {
  return event('TaskSubmitted', { taskSubmittedEventDetails: { resourceType: resource.resourceType, resource: resource.resource, output: json(output), outputDetails: NOT_TRUNCATED } });
}

export function taskSucceeded(resource: TaskResource, output: unknown): HistoryEventBody {
  if (resource.kind === 'lambda') return event('LambdaFunctionSucceeded', { lambdaFunctionSucceededEventDetails: { output: json(output), outputDetails: NOT_TRUNCATED } });
  return event('TaskSucceeded', { taskSucceededEventDetails: { resourceType: resource.resourceType, resource: resource.resource, output: json(output), outputDetails: NOT_TRUNCATED } });
}

export function taskFailed(resource: TaskResource, error: string, cause: string): HistoryEventBody {
  if (resource.kind === 'lambda') return event('LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error, cause } });
  return event('TaskFailed', { taskFailedEventDetails: { resourceType: resource.resourceType, resource: resource.resource, error, cause } });
}

const EXECUTION_DATA = new Set(['input', 'output', 'parameters', 'inputDetails', 'outputDetails']);

/** The event without its input, output and parameters (`includeExecutionData: false`). */
export function withoutExecutionData(body: HistoryEventBody): HistoryEventBody {
  const stripped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    if (key.endsWith('EventDetails') && typeof value === 'object') {
      stripped[key] = Object.fromEntries(Object.entries(value).filter(([field]) => !EXECUTION_DATA.has(field)));
    } else stripped[key] = value;
  }
  return stripped as HistoryEventBody;
}
