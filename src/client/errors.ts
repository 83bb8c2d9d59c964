/** Every failure the client reports: an error answer from the API, or no answer at all. */
export class TriggersApiError extends Error {
  /**
   * @param status the HTTP status; 0 when no response arrived (connection refused, timeout…)
   * @param code   the API's stable error code (`invalid_request`, `not_found`…), or
   *               `network_error` / `invalid_response` from the client itself
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
