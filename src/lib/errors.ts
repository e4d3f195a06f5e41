/** A required setting is missing or malformed; raised once, at cold start. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable} ${problem}`);
  }
}

/** An event or record that does not have the shape S3 sends; retrying it cannot help. */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
}

/** The registry item exists but cannot be used as a model reference. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

/**
 * Some records of an event were not processed: a retryable failure (throttling, 5xx, network) or a record
 * that is not a valid S3 notification. Thrown after every other record was handled, so Lambda retries the
 * event and finally keeps it in the dead-letter queue instead of dropping it.
 */
export class RecordsNotProcessedError extends Error {
  override readonly name = 'RecordsNotProcessedError';
  constructor(
    readonly retryableKeys: readonly string[],
    readonly invalidRecords: number,
    options: { cause: unknown },
  ) {
    super(
      `${retryableKeys.length} record(s) failed with a retryable error${retryableKeys.length ? ` (${retryableKeys.join(', ')})` : ''}` +
        ` and ${invalidRecords} record(s) were not valid S3 notifications`,
      options,
    );
  }
}

/*
 * Training and deployment. Each name is what a state machine's Catch matches on (a Lambda's thrown error
 * becomes the task's Error), so the names are part of the state machines' contract: rename them only together.
 */

/** A state machine input that cannot start a run: wrong type, out of range, unknown field. */
export class InvalidTrainingInputError extends Error {
  override readonly name = 'InvalidTrainingInputError';
}

/** Another retrain holds the training lock; this one is refused instead of training twice. */
export class TrainingInProgressError extends Error {
  override readonly name = 'TrainingInProgressError';
  constructor(
    readonly heldBy: string,
    options?: { cause: unknown },
  ) {
    super(`a retrain is already running (version "${heldBy}"); wait for it to finish`, options);
  }
}

/** A model version of that name was already requested: a double trigger, or a name reused by mistake. */
export class VersionExistsError extends Error {
  override readonly name = 'VersionExistsError';
  constructor(
    readonly versionName: string,
    options?: { cause: unknown },
  ) {
    super(`model version "${versionName}" was already requested; choose another versionName`, options);
  }
}

/** The training images cannot make a usable dataset (too few labels or images, bad names). */
export class DatasetError extends Error {
  override readonly name = 'DatasetError';
}

/** The service's evaluation of a trained version is missing or not in the documented shape. */
export class EvaluationError extends Error {
  override readonly name = 'EvaluationError';
}

/** A start was asked for, but there is no version to start (no name given and no promoted model). */
export class NoModelToStartError extends Error {
  override readonly name = 'NoModelToStartError';
}
