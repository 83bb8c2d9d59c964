// @ts-check
/**
 * The console's only way to the server: the session (a JWT from POST /token, kept in
 * sessionStorage), JSON requests with that token, and the live feed.
 *
 * The API key itself is kept in memory only, to renew the token before it expires; after a
 * reload the stored token is used until it expires, then the console asks for the key again.
 */

const TOKEN_KEY = 'triggers.session';

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** @typedef {{ token: string, expiresAt: number }} Session */

export class Api extends EventTarget {
  constructor() {
    super();
    /** @type {string | null} */
    this.apiKey = null;
    /** @type {Session | null} */
    this.session = null;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    this.renewTimer = undefined;
    try {
      const saved = JSON.parse(sessionStorage.getItem(TOKEN_KEY) ?? 'null');
      if (saved && typeof saved.token === 'string' && saved.expiresAt > Date.now() + 5000) this.session = saved;
    } catch {
      sessionStorage.removeItem(TOKEN_KEY);
    }
  }

  get signedIn() {
    return this.session !== null && this.session.expiresAt > Date.now();
  }

  /** Trades the API key for a token. Throws ApiError (401 invalid_credentials for a wrong key). */
  async signIn(apiKey) {
    const res = await fetch('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ api_key: apiKey }),
    });
    const body = await readJson(res);
    if (!res.ok) throw toError(res, body);
    this.apiKey = apiKey;
    this.session = { token: body.access_token, expiresAt: Date.now() + body.expires_in * 1000 };
    sessionStorage.setItem(TOKEN_KEY, JSON.stringify(this.session));
    this.scheduleRenewal(body.expires_in * 1000);
  }

  /**
   * A new token for the key in memory. A key the server no longer takes (revoked, rotated away)
   * signs out with a notice instead of retrying for ever; other failures are left to the caller.
   */
  async renew() {
    const apiKey = this.apiKey;
    if (!apiKey) throw new ApiError(401, 'unauthorized', 'Signed out');
    try {
      await this.signIn(apiKey);
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        this.signOut('The server no longer accepts this API key (revoked or changed). Sign in again.');
      }
      throw error;
    }
  }

  /** @param {number} ttlMs */
  scheduleRenewal(ttlMs) {
    clearTimeout(this.renewTimer);
    if (!this.apiKey) return;
    // Renew at 80 % of the lifetime; a failure signs out at expiry at the latest.
    this.renewTimer = setTimeout(
      () => {
        if (this.apiKey) this.renew().catch(() => undefined);
      },
      Math.max(5000, ttlMs * 0.8),
    );
  }

  /** @param {string} [reason] */
  signOut(reason) {
    clearTimeout(this.renewTimer);
    this.apiKey = null;
    this.session = null;
    sessionStorage.removeItem(TOKEN_KEY);
    this.dispatchEvent(new CustomEvent('signedout', { detail: reason ?? null }));
  }

  /**
   * A JSON request with the token. 401 renews the token once when the key is known, else signs out.
   * @param {string} method @param {string} path @param {unknown} [body]
   * @returns {Promise<any>}
   */
  async request(method, path, body, retried = false) {
    if (!this.session) throw new ApiError(401, 'unauthorized', 'Signed out');
    const headers = { authorization: `Bearer ${this.session.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    if (res.status === 401) {
      if (!retried && this.apiKey) {
        await this.renew();
        return this.request(method, path, body, true);
      }
      this.signOut('Your session has expired. Sign in again.');
      throw new ApiError(401, 'unauthorized', 'Session expired');
    }
    if (res.status === 204) return null;
    const json = await readJson(res);
    if (!res.ok) throw toError(res, json);
    return json;
  }

  get(path) {
    return this.request('GET', path);
  }
  post(path, body) {
    return this.request('POST', path, body ?? {});
  }

  /** Downloads a file from an authenticated route (a plain link cannot send the token). */
  async download(path, fallbackName) {
    if (!this.session) return;
    const res = await fetch(path, { headers: { authorization: `Bearer ${this.session.token}` } });
    if (!res.ok) throw toError(res, await readJson(res));
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = name;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }
}

async function readJson(res) {
  const text = await res.text();
  try {
    return text === '' ? null : JSON.parse(text);
  } catch {
    return { error: { code: 'invalid_response', message: text.slice(0, 200) } };
  }
}

function toError(res, body) {
  const error = body?.error;
  return new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${res.status}`);
}

/**
 * The live feed: GET /console/stream read with fetch (so the token travels in the Authorization
 * header, never in a URL), parsed as server-sent events and re-dispatched as DOM events named
 * after the SSE event (`summary`, `event`, `delivery`, `received`, `hello`). Reconnects after a
 * drop, with the current token. Also emits `status` with `detail: 'live' | 'reconnecting'`.
 */
export class Live extends EventTarget {
  /** @param {Api} api */
  constructor(api) {
    super();
    this.api = api;
    /** @type {AbortController | null} */
    this.controller = null;
    this.retryMs = 1000;
    /** @type {any} */
    this.hello = null;
  }

  start() {
    if (this.controller) return;
    const controller = new AbortController();
    this.controller = controller;
    this.loop(controller.signal);
  }

  stop() {
    this.controller?.abort();
    this.controller = null;
  }

  /** @param {AbortSignal} signal */
  async loop(signal) {
    while (!signal.aborted) {
      try {
        if (!this.api.session) break;
        const res = await fetch('/console/stream', { headers: { authorization: `Bearer ${this.api.session.token}` }, signal });
        if (res.status === 401 && this.api.apiKey) await this.api.renew();
        else if (res.status === 401) {
          this.api.signOut('Your session has expired. Sign in again.');
          break;
        }
        if (res.ok && res.body) {
          this.status('live');
          this.retryMs = 1000;
          await this.read(res.body, signal);
        }
      } catch {
        // dropped or aborted; retried below unless stopped
      }
      if (signal.aborted) break;
      this.status('reconnecting');
      await new Promise((resolve) => setTimeout(resolve, this.retryMs));
      this.retryMs = Math.min(this.retryMs * 2, 10_000);
    }
  }

  /** @param {string} state */
  status(state) {
    this.dispatchEvent(new CustomEvent('status', { detail: state }));
  }

  /** @param {ReadableStream<Uint8Array>} body @param {AbortSignal} signal */
  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    signal.addEventListener('abort', () => reader.cancel().catch(() => undefined), { once: true });
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end = buffer.indexOf('\n\n');
      while (end >= 0) {
        this.frame(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf('\n\n');
      }
    }
  }

  /** @param {string} text */
  frame(text) {
    let name = 'message';
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
    }
    if (data === '') return;
    let detail;
    try {
      detail = JSON.parse(data);
    } catch {
      return;
    }
    if (name === 'hello') this.hello = detail;
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }
}
