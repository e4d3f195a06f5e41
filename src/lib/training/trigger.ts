import { StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { InvalidTrainingInputError, VersionExistsError } from '../errors.js';
import { parseInput, VersionNameSchema, versionNameFromTime } from './input.js';

/**
 * The execution name of a retrain: one per version name, so Step Functions itself refuses a second execution
 * of the same retrain (ExecutionAlreadyExists) and a repeated identical request returns the running one.
 */
export function retrainExecutionName(versionName: string): string {
  return `train-${versionName}`;
}

/**
 * Starts a retrain with its deterministic execution name. Without a versionName one is derived from `now` and
 * put into the input, so the name the execution trains under is the one its execution name shows.
 */
export async function startRetrain(
  sfn: SFNClient,
  stateMachineArn: string,
  input: Readonly<Record<string, unknown>>,
  now: Date = new Date(),
): Promise<{ readonly executionArn: string; readonly versionName: string }> {
  const versionName = parseInput(VersionNameSchema, input.versionName) ?? versionNameFromTime(now.toISOString());
  try {
    const response = await sfn.send(
      new StartExecutionCommand({
        stateMachineArn,
        name: retrainExecutionName(versionName),
        input: JSON.stringify({ ...input, versionName }),
      }),
    );
    if (!response.executionArn) throw new InvalidTrainingInputError('Step Functions returned no execution ARN');
    return { executionArn: response.executionArn, versionName };
  } catch (error) {
    if (error instanceof Error && error.name === 'ExecutionAlreadyExists') throw new VersionExistsError(versionName, { cause: error });
    throw error;
  }
}
