/** An error the emulator returns the way Rekognition does: `__type` names the exception the SDK throws. */
export class ApiError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export const notFound = (what: string): ApiError => new ApiError('ResourceNotFoundException', `${what} not found`);
export const invalidParameter = (message: string): ApiError => new ApiError('InvalidParameterException', message);
