export type ResultStatus = 'CLASSIFIED' | 'NEEDS_REVIEW' | 'PENDING' | 'REJECTED' | 'FAILED';

/** Why an image was refused. Stable strings: users filter and alert on them. */
export type RejectReason =
  | 'empty-object'
  | 'object-too-large'
  | 'unsupported-format'
  | 'dicom-not-supported'
  | 'corrupt-image'
  | 'dimensions-too-small'
  | 'dimensions-too-large'
  | 'invalid-image-format'
  | 'image-too-large'
  | 'invalid-s3-object'
  | 'invalid-parameter';

/** Why an image waits; PENDING rows are classified again after the next model start. */
export type PendingReason = 'no-model' | 'model-not-running';

/** Why classification failed for a reason that is neither the image's fault nor a wait for a model. */
export type FailedReason = 'model-not-found' | 'registry-invalid' | 'access-denied' | 'retryable-error';
