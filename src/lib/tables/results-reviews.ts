import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { conditionalWrite } from './conditions.js';

/*
 * A clinician's decision on a results row, as conditional updates of the row, so two reviewers never overwrite
 * each other and a re-uploaded image never inherits a decision. Part of the results table module (results.ts).
 */

type Row = Record<string, unknown>;

/** The fields a decision writes. */
export interface ReviewDecision {
  readonly reviewedLabel: string;
  readonly reviewer: string;
  readonly reviewedAt: string;
  readonly agreement: 'AGREED' | 'CORRECTED';
  readonly reviewNote?: string | undefined;
}

/** What a decision leaves on the row, the training copy's fields included: what undoing it removes. */
const REVIEW_ATTRIBUTES = ['reviewedLabel', 'reviewer', 'reviewedAt', 'agreement', 'reviewNote', 'trainingKey', 'trainingCopiedAt'] as const;

/**
 * Records the decision only on the row the reviewer saw (same sequencer: not a re-upload) and only if nobody has
 * decided yet. Returns the row as written, or undefined when the condition refused it.
 */
export async function recordDecision(documents: DynamoDBDocumentClient, table: string, imageKey: string, sequencer: string, review: ReviewDecision): Promise<Row | undefined> {
  const values: Record<string, unknown> = {
    ':label': review.reviewedLabel,
    ':reviewer': review.reviewer,
    ':at': review.reviewedAt,
    ':agreement': review.agreement,
    ':seq': sequencer,
  };
  let update = 'SET reviewedLabel = :label, reviewer = :reviewer, reviewedAt = :at, agreement = :agreement';
  if (review.reviewNote !== undefined && review.reviewNote !== '') {
    values[':note'] = review.reviewNote;
    update += ', reviewNote = :note';
  }
  const outcome = await conditionalWrite(() =>
    documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { imageKey },
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(imageKey) AND sequencer = :seq AND attribute_not_exists(reviewedAt)',
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    ),
  );
  return outcome.written ? (outcome.output.Attributes ?? {}) : undefined;
}

/** Removes a decision, only this reviewer's and only the one made at `reviewedAt`. Returns the row before, or undefined when refused. */
export async function removeDecision(documents: DynamoDBDocumentClient, table: string, imageKey: string, reviewer: string, reviewedAt: string): Promise<Row | undefined> {
  const outcome = await conditionalWrite(() =>
    documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { imageKey },
        UpdateExpression: `REMOVE ${REVIEW_ATTRIBUTES.join(', ')}`,
        ConditionExpression: 'reviewer = :reviewer AND reviewedAt = :at',
        ExpressionAttributeValues: { ':reviewer': reviewer, ':at': reviewedAt },
        ReturnValues: 'ALL_OLD',
      }),
    ),
  );
  return outcome.written ? (outcome.output.Attributes ?? {}) : undefined;
}

/** Notes the training copy on the row, only while the decision made at `reviewedAt` stands. */
export async function recordTrainingCopy(
  documents: DynamoDBDocumentClient,
  table: string,
  copy: { readonly imageKey: string; readonly reviewedAt: string; readonly trainingKey: string; readonly copiedAt: string },
): Promise<boolean> {
  const outcome = await conditionalWrite(() =>
    documents.send(
      new UpdateCommand({
        TableName: table,
        Key: { imageKey: copy.imageKey },
        UpdateExpression: 'SET trainingKey = :key, trainingCopiedAt = :copied',
        ConditionExpression: 'reviewedAt = :at',
        ExpressionAttributeValues: { ':key': copy.trainingKey, ':copied': copy.copiedAt, ':at': copy.reviewedAt },
      }),
    ),
  );
  return outcome.written;
}
