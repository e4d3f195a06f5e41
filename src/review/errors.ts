/** A request the review server refuses; `status` is the HTTP status and `body` what the page is told. */
export class ReviewRequestError extends Error {
  override readonly name = 'ReviewRequestError';

  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 421,
    readonly code: string,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
