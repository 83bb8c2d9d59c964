/**
 * Which scope each route needs. The rule is decided by method and registered path, so a route
 * added later falls under a safe default: reading (GET) needs `read`, anything else `admin`.
 *
 *   ingest    POST /events, POST /events/batch
 *   consume   claiming, acking, nacking and settling deliveries (a pull consumer or a remote
 *             dispatcher): needs `read` AND `ingest`, because it both reads event bodies and
 *             changes queue state. `read` alone can list the inbox but not take from it.
 *   read      every GET (events, inbox, subscriptions, dead letters, receivers, metrics…) and
 *             POST /receivers/verify (a calculation that stores nothing)
 *   admin     everything else: subscription writes, replays, deletes, receiver secrets, /keys
 *
 * `admin` holds every scope.
 */
import type { Scope } from '../core/apiKeys.js';

export type Rule = 'ingest' | 'consume' | 'read' | 'admin';

const INGEST = new Set(['/events', '/events/batch']);
const CONSUME = new Set([
  '/inbox/claim',
  '/inbox/:id/ack',
  '/deliveries/:delivery_id/ack',
  '/deliveries/:delivery_id/nack',
  '/deliveries/settle',
  '/deliveries/release',
]);
const READ_POSTS = new Set(['/receivers/verify']);

export function ruleFor(method: string, url: string): Rule {
  if (url === '/keys' || url.startsWith('/keys/')) return 'admin';
  if (method === 'GET' || method === 'HEAD') return 'read';
  if (method === 'POST') {
    if (INGEST.has(url)) return 'ingest';
    if (CONSUME.has(url)) return 'consume';
    if (READ_POSTS.has(url)) return 'read';
  }
  return 'admin';
}

export function allows(scopes: readonly Scope[], rule: Rule): boolean {
  if (scopes.includes('admin')) return true;
  switch (rule) {
    case 'ingest':
      return scopes.includes('ingest');
    case 'read':
      return scopes.includes('read');
    case 'consume':
      return scopes.includes('read') && scopes.includes('ingest');
    case 'admin':
      return false;
  }
}

/**
 * Whether a caller may read subscriptions' signing secrets and custom header values: those who
 * can deliver (`admin`, or `read` + `ingest` as a remote dispatcher has). A `read`-only key — a
 * dashboard, an auditor — sees that they exist, never their values.
 */
export function seesSecrets(scopes: readonly Scope[]): boolean {
  return allows(scopes, 'consume');
}

export function describeRule(rule: Rule): string {
  return rule === 'consume' ? 'the read and ingest scopes' : `the ${rule} scope`;
}
