/**
 * The JSON request-body parser, for every route that takes JSON. Besides text that is not JSON,
 * it refuses, as a 400 `invalid_json` that says why, bodies that would parse but then hurt:
 *
 * - nesting deeper than MAX_JSON_DEPTH (the walks after parsing would run out of stack);
 * - a `"__proto__"` key, or a `"constructor"` object with a `"prototype"` key (prototype
 *   poisoning: refused rather than stripped, so nothing is silently dropped);
 * - a string or key holding a lone UTF-16 surrogate (`"\ud800"`): allowed by the JSON grammar
 *   but not Unicode text (RFC 8259 §8.2, I-JSON RFC 7493 §2.1); strict parsers (jq, Go, Rust)
 *   reject the whole inbox page or webhook that would carry it later;
 * - a number beyond the range of a double (`1e400`): `JSON.parse` makes it Infinity, which is
 *   stored as null;
 * - bytes that are not UTF-8 (RFC 8259 §8.1): decoding would store U+FFFD in their place,
 *   something other than what was sent, without a word (one SIMD check of the bytes).
 *
 * Lone surrogates and huge numbers can only come from text that a regex spots (a `\uD8…`–`\uDF…`
 * escape; a three-digit exponent or a 309-digit integer part), so an ordinary body costs two
 * scans of its text and no walk over the parsed value. A compressed body (`Content-Encoding`
 * other than `identity`) is a 415: bodies are read as sent, never decoded.
 */
import { isUtf8 } from 'node:buffer';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { TriggersError, ValidationError } from '../core/errors.js';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './jsonDepth.js';

type Done = (error: Error | null, body?: unknown) => void;

/** A `\u` escape of a UTF-16 surrogate (D800–DFFF); paired ones are fine, the walk tells them apart. */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
/** A number that may not fit a double: an exponent of three or more digits, or 309 digits before the point. */
const HUGE_NUMBER = /(?:^|[:,[\s])-?(?:\d+(?:\.\d+)?[eE]\+?\d{3}|\d{309})/;

export const POISONED_KEYS_MESSAGE = 'Keys "__proto__" and "constructor.prototype" are not accepted in JSON bodies';
export const LONE_SURROGATE_MESSAGE =
  'Body has a string with a lone UTF-16 surrogate (an unpaired \\uD800–\\uDFFF escape); JSON text must be valid Unicode';
export const HUGE_NUMBER_MESSAGE = 'Body has a number outside the range of a double (beyond ±1.8e308, such as 1e400)';
export const NOT_UTF8_MESSAGE = 'Body is not valid UTF-8; JSON text must be sent as UTF-8';

const isWellFormed = (text: string): boolean => (text as string & { isWellFormed(): boolean }).isWellFormed();

/** The first problem the walk finds, or null. Depth is bounded by the check before parsing. */
function findProblem(value: unknown, strings: boolean, numbers: boolean): string | null {
  if (typeof value === 'string') return strings && !isWellFormed(value) ? LONE_SURROGATE_MESSAGE : null;
  if (typeof value === 'number') return numbers && !Number.isFinite(value) ? HUGE_NUMBER_MESSAGE : null;
  if (typeof value !== 'object' || value === null) return null;
  if (Array.isArray(value)) {
    for (const item of value) {
      const problem = findProblem(item, strings, numbers);
      if (problem !== null) return problem;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (strings && !isWellFormed(key)) return LONE_SURROGATE_MESSAGE;
    const problem = findProblem(item, strings, numbers);
    if (problem !== null) return problem;
  }
  return null;
}

function isIdentity(encoding: string | string[]): boolean {
  const value = (Array.isArray(encoding) ? encoding.join(',') : encoding).trim().toLowerCase();
  return value === '' || value === 'identity';
}

/** The `application/json` parser (`parseAs: 'buffer'`) for `app`, built on fastify's own. */
export function jsonBodyParser(app: FastifyInstance): (request: FastifyRequest, body: string | Buffer, done: Done) => void {
  const parse = app.getDefaultJsonParser('error', 'error');
  return (request, body, done) => {
    const encoding = request.headers['content-encoding'];
    if (encoding !== undefined && !isIdentity(encoding)) {
      const name = JSON.stringify(Array.isArray(encoding) ? encoding.join(', ') : encoding);
      done(
        new TriggersError(415, 'unsupported_encoding', `Content-Encoding ${name} is not supported; send the body uncompressed`),
      );
      return;
    }
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new ValidationError(NOT_UTF8_MESSAGE, undefined, 'invalid_json'));
      return;
    }
    const text = bytes.toString('utf8');
    // An empty JSON body reads as no body, so `POST …/disable` with a JSON content-type and nothing else is fine.
    if (text.length === 0 || (text.length < 64 && text.trim() === '')) {
      done(null, undefined);
      return;
    }
    if (nestsDeeperThan(text)) {
      done(new ValidationError(`JSON body nests deeper than ${MAX_JSON_DEPTH} levels`, undefined, 'invalid_json'));
      return;
    }
    parse(request, text, (error, value) => {
      if (error) {
        // fastify's parser says only "invalid"; when plain JSON.parse takes the text, the reason was poisoning.
        done(isJson(text) ? new ValidationError(POISONED_KEYS_MESSAGE, undefined, 'invalid_json') : error);
        return;
      }
      const strings = text.includes('\\u') && SURROGATE_ESCAPE.test(text);
      const numbers = HUGE_NUMBER.test(text);
      const problem = strings || numbers ? findProblem(value, strings, numbers) : null;
      if (problem !== null) done(new ValidationError(problem, undefined, 'invalid_json'));
      else done(null, value);
    });
  };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
