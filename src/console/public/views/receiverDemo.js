// @ts-check
/**
 * The Receiver log's "Try it" card: one click points the built-in receiver `/receiver/demo` at a
 * push subscription and gives the receiver that subscription's secret.
 *
 * A newcomer often arrives here from the README's curl walkthrough, which already subscribed
 * `/receiver/demo` (to `test.*`) and gave the receiver that subscription's secret. Adding a
 * second subscription with another secret would deliver every event twice, and the receiver,
 * which verifies with one secret, would refuse one copy as invalid_signature (dead-lettered).
 * So an active subscription already delivering there is reused; when several with different
 * secrets are there, the user chooses which one the receiver verifies with. Nothing changes
 * until then.
 */
import { h, message, replace, section, toast, urlCode } from '../dom.js';

export const DEMO = { subscription: 'receiver-demo', name: 'demo' };

/**
 * The receiver name a subscription URL delivers to on this server (its API URL, or the page's
 * origin), or null.
 * @param {string | null} url @param {any} live
 */
export function receiverOf(url, live) {
  try {
    const u = new URL(url ?? '');
    const own = [live.hello?.api_url, location.origin].flatMap((o) => (o ? [new URL(o).origin] : []));
    const m = /^\/receiver\/([^/]+)\/?$/.exec(u.pathname);
    return m && own.includes(u.origin) ? decodeURIComponent(m[1] ?? '') : null;
  } catch {
    return null;
  }
}

/** `test.*` or `every event`, for telling what a subscription delivers. @param {any} s */
const types = (s) => (s.event_types.includes('*') ? 'every event' : s.event_types.join(', '));

/** @param {any} api @param {any} live @param {() => void} onConnected */
export function demoCard(api, live, onConnected) {
  const demoInfo = h('p', { class: 'muted' });

  async function connectDemo() {
    const url = `${live.hello?.api_url ?? location.origin}/receiver/${DEMO.name}`;
    try {
      // Looked up in the list rather than by id: a 404 would show as an error in the browser console.
      const { data } = await api.get('/subscriptions');
      const targeting = data.filter((/** @type {any} */ s) => s.status === 'active' && receiverOf(s.url, live) === DEMO.name);
      if (targeting.length === 0) {
        const taken = data.find((/** @type {any} */ s) => s.id === DEMO.subscription);
        if (taken) {
          replace(
            demoInfo,
            h(
              'span',
              { class: 'error-text', role: 'alert' },
              `Subscription ${DEMO.subscription} exists but ${taken.status === 'active' ? `delivers to ${taken.url}` : 'is disabled'}: `,
              'enable, edit or delete it in ',
              h('a', { href: '#/subscriptions' }, 'Subscriptions'),
              ', then connect again.',
            ),
          );
          return;
        }
        const sub = await api.post('/subscriptions', {
          id: DEMO.subscription,
          url,
          event_types: ['*'],
          description: 'Delivers to the built-in receiver (console demo)',
        });
        await verifyWith(sub, true);
        return;
      }
      if (new Set(targeting.map((/** @type {any} */ s) => s.secret)).size === 1) {
        await verifyWith(targeting[0], false, targeting.length);
        return;
      }
      replace(
        demoInfo,
        `${targeting.length} active subscriptions already deliver to `,
        h('code', null, url),
        ', with different secrets: ',
        targeting.map((/** @type {any} */ s, /** @type {number} */ i) => [
          i ? ', ' : '',
          h('code', null, s.id),
          ` (${types(s)})`,
        ]),
        '. The receiver verifies with one secret, so it refuses what the others sign (401 invalid signature) and those ',
        'deliveries are dead-lettered. Choose the one it verifies with, and disable the others in ',
        h('a', { href: '#/subscriptions' }, 'Subscriptions'),
        ':',
        h(
          'span',
          { class: 'actions choice' },
          targeting.map((/** @type {any} */ s) =>
            h('button', { type: 'button', class: 'small', onclick: () => verifyWith(s, false) }, `Verify with ${s.id}’s secret`),
          ),
        ),
      );
    } catch (error) {
      replace(demoInfo, h('span', { class: 'error-text', role: 'alert' }, message(error)));
    }
  }

  /** @param {any} sub @param {boolean} created @param {number} [sharing] subscriptions with this secret */
  async function verifyWith(sub, created, sharing = 1) {
    try {
      await api.request('PUT', `/receivers/${DEMO.name}/secret`, { secret: sub.secret });
    } catch (error) {
      replace(demoInfo, h('span', { class: 'error-text', role: 'alert' }, message(error)));
      return;
    }
    const everything = sub.event_types.includes('*');
    replace(
      demoInfo,
      created ? 'Created subscription ' : 'Using subscription ',
      h('code', null, sub.id),
      created ? '' : sharing > 1 ? ` (and ${sharing - 1} more with the same secret), already there,` : ', already there,',
      ` which delivers ${everything ? 'every event' : `events of type ${types(sub)}`} to `,
      urlCode(sub.url),
      '; the receiver verifies with its secret. ',
      h('a', { href: '#/send' }, everything ? 'Send an event' : 'Send an event of a matching type'),
      '.',
    );
    toast(created ? 'Demo subscription connected' : `Receiver ${DEMO.name} connected to subscription ${sub.id}`);
    onConnected();
  }

  return section(
    'Try it',
    h(
      'p',
      null,
      'Create a push subscription to this server’s own receiver ',
      h('code', null, `/receiver/${DEMO.name}`),
      ' and give the receiver its secret (one that already delivers there is used instead); then send an event and watch it arrive verified below.',
    ),
    h('button', { type: 'button', class: 'primary', onclick: connectDemo }, 'Connect demo subscription'),
    demoInfo,
  );
}
