import * as z from 'zod/mini';
import { looseNumber, looseString } from '../schema.js';

/**
 * The fields we read of a DescribeProjectVersions entry, as a state machine hands it to a Lambda. Each is optional
 * (the service omits what does not apply yet) and read as absent when it has another type; other fields pass through.
 */
export const ProjectVersionSchema = z.looseObject(
  {
    ProjectVersionArn: looseString(),
    Status: z.optional(z.unknown()),
    MinInferenceUnits: looseNumber(),
    MaxInferenceUnits: looseNumber(),
    BillableTrainingTimeInSeconds: looseNumber(),
    EvaluationResult: z.catch(
      z.optional(
        z.object({
          F1Score: looseNumber(),
          Summary: z.catch(
            z.optional(z.object({ S3Object: z.catch(z.optional(z.object({ Bucket: looseString(), Name: looseString() })), undefined) })),
            undefined,
          ),
        }),
      ),
      undefined,
    ),
  },
  { error: 'version is missing or not an object' },
);

export type ProjectVersion = z.output<typeof ProjectVersionSchema>;
