/**
 * Bodies whose fields choose what a request does (a subscription's filters, a bulk replay's
 * scope) refuse fields they do not know, with 400 `unknown_field`, instead of ignoring them: a
 * misspelt `event_type` must not subscribe a URL to every event, nor a misspelt filter replay
 * every dead letter.
 */
import { ValidationError } from '../core/errors.js';

export function refuseUnknownFields(
  body: object,
  allowed: ReadonlySet<string>,
  route: string,
  explain: (key: string) => string | undefined = () => undefined,
): void {
  for (const key of Object.keys(body)) {
    if (allowed.has(key)) continue;
    const message = explain(key) ?? `unknown field ${JSON.stringify(key)}; ${route} takes ${[...allowed].join(', ')}`;
    throw new ValidationError(message, undefined, 'unknown_field');
  }
}
