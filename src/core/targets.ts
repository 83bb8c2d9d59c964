/**
 * Which webhook targets are allowed. Unless TRIGGERS_ALLOW_PRIVATE_TARGETS is set, a URL whose
 * host is, or resolves to, a loopback, private, link-local, unique-local, CGNAT or cloud
 * metadata address is refused: at subscription time (here) and again at connect time (the
 * dispatcher's connector), so a DNS name that changes its answer later gains nothing.
 */
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { ValidationError } from './errors.js';

const blocked = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  // Forms that embed an IPv4 address, which a translator or relay on the path may reach:
  // IPv4-compatible (::a.b.c.d, deprecated), IPv4-translated (SIIT), local-use NAT64 (RFC 8215)
  // and 6to4 (deprecated, RFC 7526; no public relays are left, so the whole prefix goes).
  ['::', 96],
  ['::ffff:0:0:0', 96],
  ['64:ff9b:1::', 48],
  ['2002::', 16],
] as const) {
  blocked.addSubnet(network, prefix, 'ipv6');
}

/** True for addresses a webhook must not reach unless private targets are allowed. */
export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return blocked.check(address, 'ipv4');
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped) return blocked.check(mapped[1] as string, 'ipv4');
    return blocked.check(address, 'ipv6');
  }
  return true;
}

/** Parses and checks a webhook URL's shape: http(s), no credentials, a host. */
export function parseTargetUrl(text: string): URL {
  // What is stored is what is called: no spaces for the parser to trim, no `http:host` or
  // `http:/host` for it to repair into another URL.
  if (/\s/.test(text) || (/^https?:/i.test(text) && !/^https?:\/\/[^/]/i.test(text))) {
    throw new ValidationError(
      `url must be written out, like https://example.com/hooks, with no spaces: ${JSON.stringify(text.slice(0, 200))}`,
      undefined,
      'invalid_url',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`url is not a valid URL: ${JSON.stringify(text.slice(0, 200))}`, undefined, 'invalid_url');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError('url must use http or https', undefined, 'invalid_url');
  }
  if (url.username || url.password) throw new ValidationError('url must not carry credentials', undefined, 'invalid_url');
  if (text.length > 2048) throw new ValidationError('url is longer than 2048 characters', undefined, 'invalid_url');
  return url;
}

/** How long a subscription write waits for DNS before it accepts the name unresolved. */
export const LOOKUP_TIMEOUT_MS = 2_000;

const PRIVATE_TARGET_MESSAGE =
  'url resolves to a private or loopback address; set TRIGGERS_ALLOW_PRIVATE_TARGETS=true to allow it';

/**
 * Refuses a URL that points at a private address (by literal or by DNS), unless allowed.
 * URLs `exempt` says yes to (the built-in receiver on this server: `isOwnReceiver`) always are.
 *
 * A name that does not resolve now (no DNS where the server runs, a record not yet published, a
 * resolver that times out) is accepted: the dispatcher checks the address it actually dials on
 * every connection, so an unchecked name can never reach inside the network, and a DNS failure
 * at delivery is retried like any connection error. Names that can only ever mean this machine
 * (`localhost`, `*.localhost`) are refused without asking DNS, and `*.invalid` names, which can
 * never resolve, are refused as invalid.
 */
export async function checkTargetUrl(
  text: string,
  options: { allowPrivate: boolean; exempt?: (url: URL) => boolean },
): Promise<URL> {
  const url = parseTargetUrl(text);
  if (options.allowPrivate || options.exempt?.(url)) return url;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const name = host.toLowerCase().replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) {
    throw new ValidationError(PRIVATE_TARGET_MESSAGE, undefined, 'private_target');
  }
  if (name === 'invalid' || name.endsWith('.invalid')) {
    throw new ValidationError(`url host ${JSON.stringify(host)} can never resolve (.invalid)`, undefined, 'invalid_url');
  }
  const addresses = isIP(host) ? [host] : await resolve(host);
  if (addresses.some(isPrivateAddress)) {
    throw new ValidationError(PRIVATE_TARGET_MESSAGE, undefined, 'private_target');
  }
  return url;
}

/** The addresses a name resolves to; none when it does not resolve within LOOKUP_TIMEOUT_MS. */
async function resolve(host: string): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string[]>((done) => {
    timer = setTimeout(() => done([]), LOOKUP_TIMEOUT_MS);
    timer.unref();
  });
  const answer = lookup(host, { all: true, verbatim: true }).then(
    (entries) => entries.map((entry) => entry.address),
    () => [] as string[],
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0', '[::]']);

/**
 * Whether `url` is the built-in receiver (`/receiver/…`) of the server at `api`: on its origin,
 * or, when it listens on a loopback or wildcard address, on any loopback name with its port
 * (`localhost` and `127.0.0.1` are the same server). Always allowed as a target.
 */
export function isOwnReceiver(url: URL, api: URL): boolean {
  if (!url.pathname.startsWith('/receiver/')) return false;
  if (url.origin === api.origin) return true;
  return (
    url.protocol === api.protocol && url.port === api.port && LOOPBACK_HOSTS.has(url.hostname) && LOOPBACK_HOSTS.has(api.hostname)
  );
}
