// @ts-check
/**
 * The console's entry: sign-in, the hash router (one module per view, loaded when first opened
 * so the first load stays small), and the live feed shared by the views.
 *
 *   #/dashboard  #/events[?filters]  #/events/<id>  #/send  #/subscriptions  #/dead-letters  #/receiver
 */
import { Api, Live } from './api.js';
import { field, h, message, replace } from './dom.js';
import { Samples } from './samples.js';

const ROUTES = {
  dashboard: { title: 'Dashboard', load: () => import('./views/dashboard.js') },
  events: { title: 'Events', load: () => import('./views/events.js') },
  event: { title: 'Event', load: () => import('./views/event.js') },
  send: { title: 'Send a test event', load: () => import('./views/send.js') },
  subscriptions: { title: 'Subscriptions', load: () => import('./views/subscriptions.js') },
  'dead-letters': { title: 'Dead letters', load: () => import('./views/deadLetters.js') },
  receiver: { title: 'Receiver log', load: () => import('./views/receiver.js') },
};

const api = new Api();
const live = new Live(api);
const samples = new Samples(300);
live.addEventListener('summary', (e) => samples.push(/** @type {CustomEvent} */ (e).detail));

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const nav = /** @type {HTMLElement} */ (document.getElementById('nav'));
const signOutButton = /** @type {HTMLButtonElement} */ (document.getElementById('sign-out'));
const liveStatus = /** @type {HTMLElement} */ (document.getElementById('live'));

/** @type {(() => void) | void} */
let cleanup;
let firstRender = true;
let renderCount = 0;

/** Parses `#/events/evt_1?type=x` into { name: 'event', id: 'evt_1', params }. */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  if (parts[0] === 'events' && parts[1]) return { name: 'event', id: parts[1], params };
  const name = parts[0] && parts[0] in ROUTES ? parts[0] : 'dashboard';
  return { name, id: null, params };
}

/** @param {string} hash */
function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

async function render() {
  const count = ++renderCount;
  cleanup?.();
  cleanup = undefined;
  if (!api.signedIn) {
    showSignIn();
    return;
  }
  const route = parseHash();
  const entry = ROUTES[/** @type {keyof typeof ROUTES} */ (route.name)];
  for (const link of nav.querySelectorAll('a')) {
    const target = link.getAttribute('href')?.slice(2);
    if (target === route.name || (route.name === 'event' && target === 'events')) {
      link.setAttribute('aria-current', 'page');
      // On a phone the nav is one row that scrolls sideways: keep the current section in sight.
      link.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    } else link.removeAttribute('aria-current');
  }
  document.title = `${entry.title} · Triggers console`;
  try {
    const view = await entry.load();
    if (count !== renderCount) return;
    main.replaceChildren();
    cleanup = view.mount(main, { api, live, samples, navigate, params: route.params, id: route.id });
  } catch (error) {
    replace(main, h('p', { class: 'error-text', role: 'alert' }, `Could not open this view: ${message(error)}`));
  }
  if (!firstRender) main.focus({ preventScroll: true });
  firstRender = false;
}

/** @param {string | null} [notice] */
function showSignIn(notice) {
  nav.hidden = true;
  signOutButton.hidden = true;
  liveStatus.hidden = true;
  document.title = 'Sign in · Triggers console';
  const input = /** @type {HTMLInputElement} */ (
    h('input', { type: 'password', name: 'api_key', autocomplete: 'current-password', required: true, spellcheck: 'false' })
  );
  const error = h('p', { class: 'error-text', role: 'alert', hidden: true });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    {
      class: 'card signin',
      'aria-labelledby': 'signin-title',
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        error.hidden = true;
        button.setAttribute('disabled', '');
        try {
          await api.signIn(input.value.trim());
          input.value = '';
          // The form goes away: focus moves to the view that replaces it, not to the page's top.
          firstRender = false;
          onSignedIn();
        } catch (err) {
          error.textContent =
            /** @type {any} */ (err).code === 'invalid_credentials' ? 'That API key is not right.' : message(err);
          error.hidden = false;
          input.setAttribute('aria-invalid', 'true');
          input.focus();
        } finally {
          button.removeAttribute('disabled');
        }
      },
    },
    h('h1', { id: 'signin-title' }, 'Sign in'),
    notice ? h('p', { class: 'notice' }, notice) : null,
    h('input', {
      type: 'text',
      name: 'username',
      value: 'api',
      autocomplete: 'username',
      hidden: true,
      'aria-hidden': 'true',
      tabindex: '-1',
    }),
    field(
      'API key',
      input,
      'The TRIGGERS_API_KEY of this server: printed on its first start, and saved in data/secrets.json as zapier_api_key.',
    ),
    error,
    button,
  );
  replace(main, form);
  input.focus();
}

function onSignedIn() {
  nav.hidden = false;
  signOutButton.hidden = false;
  liveStatus.hidden = false;
  live.start();
  if (!location.hash || location.hash === '#/') location.hash = '#/dashboard';
  else render();
}

live.addEventListener('status', (e) => {
  const state = /** @type {CustomEvent} */ (e).detail;
  liveStatus.textContent = state === 'live' ? 'Live' : 'Reconnecting…';
  liveStatus.className = `live live-${state}`;
});

api.addEventListener('signedout', (e) => {
  live.stop();
  samples.clear();
  cleanup?.();
  cleanup = undefined;
  showSignIn(/** @type {CustomEvent} */ (e).detail);
});

signOutButton.addEventListener('click', () => api.signOut('Signed out.'));
window.addEventListener('hashchange', render);

if (api.signedIn) onSignedIn();
else showSignIn();
