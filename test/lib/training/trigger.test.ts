import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { VersionExistsError } from '../../../src/lib/errors.js';
import { retrainExecutionName, startRetrain } from '../../../src/lib/training/trigger.js';

const sfnMock = mockClient(SFNClient);
const sfn = new SFNClient({ region: 'eu-west-1' });
const ARN = 'arn:aws:states:eu-west-1:123456789012:stateMachine:pneumo-dev-train-and-deploy';

afterEach(() => {
  sfnMock.reset();
});

describe('startRetrain', () => {
  it('names the execution after the version, deriving the name from the time when none is given', async () => {
    sfnMock.on(StartExecutionCommand).resolves({ executionArn: 'arn:exec' });
    expect(await startRetrain(sfn, ARN, { minF1: 0.9 }, new Date('2026-11-25T08:09:10Z'))).toEqual({ executionArn: 'arn:exec', versionName: 'v20261125-080910' });
    expect(sfnMock).toHaveReceivedCommandWith(StartExecutionCommand, {
      stateMachineArn: ARN,
      name: 'train-v20261125-080910',
      input: JSON.stringify({ minF1: 0.9, versionName: 'v20261125-080910' }),
    });
    expect(retrainExecutionName('v1')).toBe('train-v1');
  });

  it('turns a second start of the same retrain into VersionExistsError', async () => {
    sfnMock.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    await expect(startRetrain(sfn, ARN, { versionName: 'v1' })).rejects.toThrow(VersionExistsError);
  });
});
