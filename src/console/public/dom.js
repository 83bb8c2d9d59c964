// @ts-check
/** Small DOM helpers shared by the views: element builder, formatting, messages. */

/**
 * Builds an element. Attributes starting with `on` become listeners; `class`, `for`, `hidden`,
 * `aria-*`, `data-*` and the rest are set as attributes; false/null/undefined are skipped.
 * Children are nodes or text (never parsed as HTML).
 * @param {string} tag
 * @param {Record<string, any> | null} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'value' && 'value' in el) /** @type {any} */ (el).value = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

/** @param {Element} el @param {any[]} children */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** @param {Element} el @param {...any} children */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** @param {string | null | undefined} iso */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

/** A <time> element with the exact time in its datetime and title. @param {string | null | undefined} iso */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, fmtTime(iso));
}

/**
 * A URL in code type that a narrow column breaks after a `/`, `?` or `&` rather than anywhere
 * (`127.0.0.1:80` / `80/receiver`), and mid-word only when a part is longer than the line.
 * @param {string} url
 */
export function urlCode(url) {
  const parts = url.split(/(?<=[/?&])/);
  return h(
    'code',
    { class: 'url' },
    parts.flatMap((part, i) => (i ? [h('wbr'), part] : [part])),
  );
}

/** @param {number | null | undefined} n @param {number} [digits] */
export function fmtNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return '—';
  return n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A status word with a colour that is never the only signal (the word is always there). @param {string} status */
export function badge(status) {
  return h('span', { class: `badge badge-${status.replace(/[^a-z_]/g, '')}` }, status.replace(/_/g, ' '));
}

/** Pretty JSON in a focusable, scrollable block. @param {unknown} value @param {string} label */
export function jsonBlock(value, label) {
  return h('pre', { class: 'json', tabindex: '0', 'aria-label': label }, JSON.stringify(value, null, 2));
}

/** A transient message in the page's polite live region. @param {string} text @param {'ok' | 'error'} [kind] */
export function toast(text, kind = 'ok') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const item = h('p', { class: `toast toast-${kind}` }, text);
  box.append(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

/** A labelled form field. @param {string} label @param {HTMLElement} control @param {string} [hint] */
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const hintEl = hint ? h('small', { id: `${id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl);
}

/**
 * Shows or clears an inline error under a control (and marks it invalid for screen readers).
 * @param {HTMLElement} control @param {string | null} message
 */
export function fieldError(control, message) {
  const id = `${control.id}-error`;
  let el = document.getElementById(id);
  if (!message) {
    el?.remove();
    control.removeAttribute('aria-invalid');
    control.setAttribute('aria-describedby', (control.getAttribute('aria-describedby') ?? '').replace(id, '').trim());
    return;
  }
  if (!el) {
    el = h('p', { id, class: 'error-text', role: 'alert' });
    control.closest('.field')?.append(el);
    const described = (control.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
    if (!described.includes(id)) described.push(id);
    control.setAttribute('aria-describedby', described.join(' '));
  }
  el.textContent = message;
  control.setAttribute('aria-invalid', 'true');
}

/** A datetime-local value → ISO string, or undefined. @param {string} value */
export function localToIso(value) {
  if (!value) return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Query string from an object, skipping empty values. @param {Record<string, any>} params */
export function qs(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params))
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Calls fn at most once per `ms`, with the last call's arguments trailing. @param {() => void} fn @param {number} ms */
export function throttle(fn, ms) {
  let last = 0;
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  return () => {
    const wait = last + ms - Date.now();
    if (wait <= 0) {
      last = Date.now();
      fn();
    } else if (timer === undefined) {
      timer = setTimeout(() => {
        timer = undefined;
        last = Date.now();
        fn();
      }, wait);
    }
  };
}

/** A section heading plus body, labelled by its heading. @param {string} title @param {...any} children */
export function section(title, ...children) {
  const id = `s-${title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children);
}

/** An error as text for the user. @param {unknown} error */
export function message(error) {
  return error instanceof Error ? error.message : String(error);
}

/** A submit handler that stays on the page. @param {() => unknown} fn */
export function onSubmit(fn) {
  return (/** @type {Event} */ e) => {
    e.preventDefault();
    fn();
  };
}

const EVENTS_LIST = 'triggers.events-list';

/** The events list's address with its filters, for an event page's way back. @param {string} hash */
export function rememberEventsList(hash) {
  try {
    sessionStorage.setItem(EVENTS_LIST, hash);
  } catch {
    // Storage refused (private mode): the way back is the unfiltered list.
  }
}

/** @returns {string} */
export function eventsListHash() {
  try {
    const hash = sessionStorage.getItem(EVENTS_LIST);
    if (hash?.startsWith('#/events')) return hash;
  } catch {
    // as above
  }
  return '#/events';
}
