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
