/**
 * Every failure the client reports: an error answer from the API, or no answer at all. Two
 * exceptions, as with fetch: a request cancelled through its `signal` rejects with the signal's
 * AbortError, and a `baseUrl` that is not a URL makes the constructor throw a TypeError.
 */
export class TriggersApiError extends Error {
  /**
   * @param status the HTTP status; 0 when no response arrived (connection refused, timeout…)
   * @param code   the API's stable error code (`invalid_request`, `not_found`…), or from the
   *               client itself: `network_error` (the API could not be reached), `timeout` (it
   *               was, but gave no complete answer within `timeoutMs`), `invalid_response`
   */
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfterSeconds: number | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TriggersApiError';
  }
}
