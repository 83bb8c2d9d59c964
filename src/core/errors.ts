/**
 * The few error classes Triggers throws on purpose. Each carries a stable machine-readable
 * `code` and an HTTP status; the API turns any of them into `{ error: { code, message } }` in
 * one place (api/errors.ts). Anything else that escapes is a bug and becomes a 500.
 */
export class TriggersError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** 400: the request is malformed or fails validation. */
export class ValidationError extends TriggersError {
  constructor(message: string, details?: unknown, code = 'invalid_request') {
    super(400, code, message, details);
  }
}

/** 401: credentials missing or wrong. */
export class AuthError extends TriggersError {
  constructor(message = 'Authentication required', code = 'unauthorized') {
    super(401, code, message);
  }
}

/** 403: authenticated, but not allowed to do this. */
export class ForbiddenError extends TriggersError {
  constructor(message = 'Not allowed', code = 'forbidden') {
    super(403, code, message);
  }
}

/** 404: no such thing. */
export class NotFoundError extends TriggersError {
  constructor(what: string, id?: string) {
    super(404, 'not_found', id === undefined ? `${what} not found` : `${what} ${JSON.stringify(id)} not found`);
  }
}

/** 409: the request conflicts with what is stored (an id already taken…). */
export class ConflictError extends TriggersError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

/** 503: storage cannot take the request now; the client should retry after `retryAfterSeconds`. */
export class UnavailableError extends TriggersError {
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    code = 'unavailable',
  ) {
    super(503, code, message);
  }
}

/** Invalid configuration: stops the start with a message naming the setting. */
export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    /** What is wrong, without the setting's name (message is `setting: detail`). */
    readonly detail: string,
  ) {
    super(`${setting}: ${detail}`);
    this.name = 'ConfigError';
  }
}
