/**
 * A bound on how deeply a JSON body may nest. Parsing a 10,000-deep document works, but the
 * recursive walks after it (prototype-poisoning scan, serialising for storage) run out of stack:
 * such a body must be refused as bad input (400), never become a 500. No event needs more than
 * a few dozen levels.
 */
export const MAX_JSON_DEPTH = 128;

/** True when `text` opens more than `max` objects/arrays at once (brackets inside strings ignored). */
export function nestsDeeperThan(text: string, max = MAX_JSON_DEPTH): boolean {
  if (text.length <= max) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}
