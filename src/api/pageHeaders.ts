/**
 * Headers for the HTML pages the API serves (the console at `/`, the reference at `/docs`):
 * only their own scripts run, they talk only to their own origin, and no other site may frame
 * them (clickjacking).
 */
const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/** Every header but the policy. */
export const PAGE_HEADERS = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' };

/** The Content-Security-Policy; `inlineStyles` for Swagger UI, which sets one inline style (scripts get no such exception). */
export function pageCsp(options: { inlineStyles?: boolean } = {}): string {
  return options.inlineStyles ? CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'") : CSP;
}
