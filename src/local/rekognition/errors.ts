/**
 * An error the emulator returns the way Rekognition does: `type` is the `__type` of the error document, so the SDK
 * throws its exception class of that name; `status` the HTTP status (400 unless the service's own fault).
 */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = type;
  }
}

export const notFound = (what: string): ApiError => new ApiError('ResourceNotFoundException', `${what} not found`);
export const invalidParameter = (message: string): ApiError => new ApiError('InvalidParameterException', message);
export const inUse = (message: string): ApiError => new ApiError('ResourceInUseException', message);
export const internalError = (message: string, cause?: unknown): ApiError => new ApiError('InternalServerError', message, 500, { cause });
