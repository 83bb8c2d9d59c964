// @ts-check
/**
 * Subscriptions: create one (push to a URL, or a pull-only inbox), edit its URL and filters,
 * disable and enable it, rotate its secret, delete it — and see its health live: pending
 * deliveries, dead letters and oldest pending from the live summary, the last failure from its
 * newest dead letter. Delivery control (rate limit, concurrency, timeout, custom headers, retry
 * schedule, ordered) is set on create and edit, checked here with the API's rules before it is
 * sent, and summed up under each subscription's target.
 */
import {
  badge,
  field,
  fieldError,
  fmtNumber,
  fmtTime,
  h,
  message,
  onSubmit,
  replace,
  section,
  time,
  toast,
  urlCode,
} from '../dom.js';

/** @param {string} text */
const parseTypes = (text) => text.split(/[\s,]+/).filter(Boolean);

// The API's rules (src/core/deliveryOptions.ts), so mistakes show before anything is sent.
const MAX_RATE_LIMIT = 100_000;
const MAX_CONCURRENCY = 10_000;
const MAX_HEADERS = 20;
const MAX_HEADER_VALUE = 1000;
const MAX_RETRIES = 50;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,100}$/;
const RESERVED = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'user-agent',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'keep-alive',
]);
const UNITS = /** @type {Record<string, number>} */ ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 });

/** Milliseconds, or null when the text is not a duration ("5s", "500ms", a bare number of seconds). @param {string} text */
function parseDuration(text) {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Math.round(Number(t) * 1000);
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(t);
  return m ? Math.round(Number(m[1]) * UNITS[m[2]]) : null;
}

/**
 * `Name: value` lines → a header object, or an error message.
 * @param {string} text @returns {{ headers: Record<string, string> } | { error: string }}
 */
function parseHeaders(text) {
  /** @type {Record<string, string>} */
  const headers = {};
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  if (lines.length > MAX_HEADERS) return { error: `At most ${MAX_HEADERS} headers.` };
  for (const [i, line] of lines.entries()) {
    const colon = line.indexOf(':');
    if (colon < 0) return { error: `Line ${i + 1}: write "Name: value".` };
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (!TOKEN.test(name)) return { error: `Line ${i + 1}: ${JSON.stringify(name)} is not a valid header name.` };
    if (RESERVED.has(lower) || lower.startsWith('webhook-') || lower.startsWith('proxy-')) {
      return { error: `Line ${i + 1}: ${lower} cannot be set; Triggers sends it itself.` };
    }
    if (Object.keys(headers).some((n) => n.toLowerCase() === lower)) return { error: `Line ${i + 1}: ${lower} appears twice.` };
    if (value.length > MAX_HEADER_VALUE || !/^[\t\x20-\x7e]*$/.test(value)) {
      return { error: `Line ${i + 1}: the value must be printable ASCII, at most ${MAX_HEADER_VALUE} characters.` };
    }
    headers[name] = value;
  }
  return { headers };
}

/** One line about a subscription's delivery control, e.g. "ordered · 20/s · timeout 5s". @param {any} s */
function deliverySummary(s) {
  const parts = [];
  if (s.ordered) parts.push('ordered');
  if (s.rate_limit != null) parts.push(`${s.rate_limit}/s`);
  if (s.max_concurrency != null) parts.push(`${s.max_concurrency} in flight`);
  if (s.timeout != null) parts.push(`timeout ${s.timeout}`);
  if (s.retry_schedule != null) parts.push(s.retry_schedule === '' ? 'no retries' : `retries ${s.retry_schedule}`);
  const names = Object.keys(s.headers ?? {});
  if (names.length) parts.push(`${names.length === 1 ? 'header' : 'headers'} ${names.join(', ')}`);
  return parts.join(' · ');
}

/**
 * The delivery-control fields of a form, filled from `s` when editing. `read()` checks them,
 * shows any mistake next to its field and returns the API body (or null when something is wrong):
 * on create only what was filled in; on edit every field, an empty one as null (the default).
 * @param {any} [s]
 */
function deliveryControls(s) {
  const editing = s !== undefined;
  const rate = /** @type {HTMLInputElement} */ (
    h('input', { name: 'rate_limit', inputmode: 'decimal', autocomplete: 'off', value: s?.rate_limit ?? '' })
  );
  const concurrency = /** @type {HTMLInputElement} */ (
    h('input', { name: 'max_concurrency', inputmode: 'numeric', autocomplete: 'off', value: s?.max_concurrency ?? '' })
  );
  const timeout = /** @type {HTMLInputElement} */ (h('input', { name: 'timeout', autocomplete: 'off', value: s?.timeout ?? '' }));
  const retries = /** @type {HTMLInputElement} */ (
    h('input', {
      name: 'retry_schedule',
      autocomplete: 'off',
      value: s?.retry_schedule == null ? '' : s.retry_schedule === '' ? 'none' : s.retry_schedule,
    })
  );
  const headers = /** @type {HTMLTextAreaElement} */ (
    h('textarea', {
      name: 'headers',
      rows: '3',
      spellcheck: 'false',
      value: Object.entries(s?.headers ?? {})
        .map(([name, value]) => `${name}: ${value}`)
        .join('\n'),
    })
  );
  headers.style.minHeight = '4.5rem';
  const ordered = /** @type {HTMLInputElement} */ (h('input', { name: 'ordered', type: 'checkbox' }));
  ordered.checked = s?.ordered === true;

  const byField = /** @type {Record<string, HTMLElement>} */ ({
    rate_limit: rate,
    max_concurrency: concurrency,
    timeout,
    retry_schedule: retries,
    headers,
    ordered,
  });

  const fields = [
    field('Rate limit (per second)', rate, 'Empty: no limit'),
    field('Max concurrency', concurrency, 'Empty: server default'),
    field('Timeout', timeout, 'e.g. 5s or 500ms; empty: default'),
    field('Retry schedule', retries, 'e.g. 1s,10s,1m; "none": no retries'),
    field('Custom headers', headers, 'One "Name: value" a line'),
    field('Ordered', ordered, 'One at a time, in event order'),
  ];

  function read() {
    for (const control of Object.values(byField)) fieldError(control, null);
    /** @type {Record<string, unknown>} */
    const body = {};
    let ok = true;
    const bad = (/** @type {HTMLElement} */ control, /** @type {string} */ text) => {
      fieldError(control, text);
      if (ok) control.focus();
      ok = false;
    };

    const rateText = rate.value.trim();
    if (rateText === '') {
      if (editing) body.rate_limit = null;
    } else {
      const n = Number(rateText);
      if (!/^\d*\.?\d+$/.test(rateText) || !(n > 0 && n <= MAX_RATE_LIMIT)) {
        bad(rate, `A number of requests per second above 0, at most ${MAX_RATE_LIMIT}.`);
      } else body.rate_limit = n;
    }

    const concText = concurrency.value.trim();
    if (concText === '') {
      if (editing) body.max_concurrency = null;
    } else {
      const n = Number(concText);
      if (!/^\d+$/.test(concText) || n < 1 || n > MAX_CONCURRENCY)
        bad(concurrency, `A whole number from 1 to ${MAX_CONCURRENCY}.`);
      else body.max_concurrency = n;
    }

    const timeoutText = timeout.value.trim();
    if (timeoutText === '') {
      if (editing) body.timeout = null;
    } else {
      const ms = parseDuration(timeoutText);
      if (ms === null || ms < 100 || ms > 300_000) bad(timeout, 'A duration from 100ms to 5m, e.g. 5s.');
      else body.timeout = timeoutText;
    }

    const retryText = retries.value.trim();
    if (retryText === '') {
      if (editing) body.retry_schedule = null;
    } else if (retryText.toLowerCase() === 'none') body.retry_schedule = '';
    else {
      const parts = retryText
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      const delays = parts.map(parseDuration);
      if (delays.some((d) => d === null || d > 7 * 86_400_000) || parts.length > MAX_RETRIES) {
        bad(retries, `Up to ${MAX_RETRIES} comma-separated durations of at most 7d, e.g. 1s,10s,1m.`);
      } else body.retry_schedule = parts.join(',');
    }

    const parsed = parseHeaders(headers.value);
    if ('error' in parsed) bad(headers, parsed.error);
    else if (editing || Object.keys(parsed.headers).length) body.headers = parsed.headers;

    if (editing || ordered.checked) body.ordered = ordered.checked;
    return ok ? body : null;
  }

  /** Puts an API 400 (`invalid_<field>`) next to its field; false when it names none. @param {unknown} error */
  function showApiError(error) {
    const code = /** @type {any} */ (error)?.code;
    const control = typeof code === 'string' && code.startsWith('invalid_') ? byField[code.slice(8)] : undefined;
    if (!control) return false;
    fieldError(control, message(error));
    control.focus();
    return true;
  }

  return { fields, read, showApiError };
}

/** A full-width group around the delivery-control fields. @param {HTMLElement} box */
function deliveryFieldset(box) {
  const set = h('fieldset', null, h('legend', null, 'Delivery control'), box);
  set.style.flexBasis = '100%';
  set.style.minWidth = '0';
  return set;
}

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api, samples } = ctx;
  /** @type {any[]} */
  let subs = [];
  /** @type {Map<string, any>} */
  let health = new Map();
  /** @type {Map<string, any>} last dead letter per subscription */
  const lastFailure = new Map();
  /** @type {Set<string>} */
  const revealed = new Set();
  /** @type {string | null} */
  let editing = null;
  /** The open edit form's row, kept across redraws. @type {HTMLElement | null} */
  let editForm = null;

  const tbody = h('tbody');
  const createId = /** @type {HTMLInputElement} */ (h('input', { name: 'id', placeholder: 'generated', autocomplete: 'off' }));
  const createUrl = /** @type {HTMLInputElement} */ (
    h('input', { name: 'url', type: 'url', placeholder: 'https://example.com/webhooks' })
  );
  const createTypes = /** @type {HTMLInputElement} */ (h('input', { name: 'event_types', value: '*' }));
  const createDescription = /** @type {HTMLInputElement} */ (h('input', { name: 'description' }));
  const createError = h('p', { class: 'error-text', role: 'alert', hidden: true });
  let createDelivery = deliveryControls();
  const createDeliveryBox = h('div', { class: 'inline-form' }, createDelivery.fields);

  main.append(
    h('h1', null, 'Subscriptions'),
    section(
      'New subscription',
      h(
        'form',
        { class: 'inline-form', onsubmit: onSubmit(create) },
        field('Id', createId, 'Optional'),
        field('URL', createUrl, 'Empty: a pull-only inbox'),
        field('Event types', createTypes, '*, exact, or order.*; comma-separated'),
        field('Description', createDescription),
        deliveryFieldset(createDeliveryBox),
        h('button', { type: 'submit', class: 'primary' }, 'Create'),
      ),
      createError,
    ),
    section(
      'All subscriptions',
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', null, 'Health updates live'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Id', 'Target', 'Event types', 'Status', 'Pending', 'Dead letters', 'Last failure', 'Actions'].map((t, i) =>
                h('th', { scope: 'col', class: i === 4 || i === 5 ? 'num' : null }, t),
              ),
            ),
          ),
          tbody,
        ),
      ),
    ),
  );

  async function load() {
    try {
      subs = (await api.get('/subscriptions')).data;
      await loadFailures();
      draw();
    } catch (error) {
      replace(tbody, h('tr', null, h('td', { colspan: '8', class: 'error-text', role: 'alert' }, message(error))));
    }
  }

  async function loadFailures() {
    await Promise.all(
      subs
        .filter((s) => (health.get(s.id)?.failed ?? 1) > 0)
        .map(async (s) => {
          const page = await api.get(`/dead-letters?subscription=${encodeURIComponent(s.id)}&limit=1`);
          if (page.data[0]) lastFailure.set(s.id, page.data[0]);
          else lastFailure.delete(s.id);
        }),
    );
  }

  function draw() {
    const active = document.activeElement;
    const focusKey = active instanceof HTMLElement ? active.dataset.key : undefined;
    replace(
      tbody,
      subs.length ? subs.flatMap(row) : h('tr', null, h('td', { colspan: '8', class: 'muted' }, 'No subscriptions yet.')),
    );
    if (focusKey) /** @type {HTMLElement | null} */ (tbody.querySelector(`[data-key="${CSS.escape(focusKey)}"]`))?.focus();
  }

  /** @param {any} s */
  function row(s) {
    const stats = health.get(s.id);
    const failure = lastFailure.get(s.id);
    const button = (label, key, onclick, cls) =>
      h(
        'button',
        { type: 'button', class: `small ${cls ?? ''}`, 'data-key': `${key}:${s.id}`, onclick, 'aria-label': `${label} ${s.id}` },
        label,
      );
    const rows = [
      h(
        'tr',
        null,
        h('th', { scope: 'row' }, h('code', null, s.id), s.description ? h('div', { class: 'muted' }, s.description) : null),
        h(
          'td',
          null,
          s.url ? urlCode(s.url) : h('span', { class: 'muted' }, 'inbox (pull)'),
          deliverySummary(s) ? h('div', { class: 'muted', 'data-delivery': s.id }, deliverySummary(s)) : null,
        ),
        h('td', null, h('code', null, s.event_types.join(', '))),
        h('td', null, badge(s.status), s.disabled_reason ? h('div', { class: 'muted' }, s.disabled_reason) : null),
        h('td', { class: 'num' }, fmtNumber(stats?.pending ?? 0)),
        h(
          'td',
          { class: 'num' },
          (stats?.failed ?? 0) > 0
            ? h('a', { href: `#/dead-letters?subscription=${encodeURIComponent(s.id)}` }, fmtNumber(stats.failed))
            : '0',
        ),
        h(
          'td',
          null,
          failure
            ? [
                time(failure.updated_at),
                h(
                  'div',
                  { class: 'muted' },
                  failure.last_status_code ? `HTTP ${failure.last_status_code}` : (failure.last_error ?? ''),
                ),
              ]
            : '—',
        ),
        h(
          'td',
          null,
          h(
            'div',
            { class: 'actions' },
            button('Edit', 'edit', () => toggleEdit(s.id)),
            s.status === 'active'
              ? button('Disable', 'toggle', () => act(s, 'disable'))
              : button('Enable', 'toggle', () => act(s, 'enable')),
            button('Rotate secret', 'rotate', () => rotate(s)),
            button(revealed.has(s.id) ? 'Hide secret' : 'Show secret', 'reveal', () => toggleSecret(s.id)),
            // The default subscription comes from configuration: the API refuses to delete it.
            s.id !== 'default' && button('Delete', 'delete', () => remove(s), 'danger'),
          ),
        ),
      ),
    ];
    if (revealed.has(s.id)) {
      rows.push(
        h(
          'tr',
          null,
          h(
            'td',
            { colspan: '8' },
            h('span', { class: 'muted' }, 'Signing secret: '),
            s.secret === null
              ? h('span', { 'data-secret': s.id }, 'hidden from keys with only the read scope')
              : h('code', { 'data-secret': s.id }, s.secret),
            s.previous_secrets.length
              ? h(
                  'div',
                  { class: 'muted' },
                  `Previous secret still signing until ${s.previous_secrets.map((p) => fmtTime(p.expires_at)).join(', ')}`,
                )
              : null,
          ),
        ),
      );
    }
    if (editing === s.id) {
      // Built once per opening: a redraw (another row's button, live counts) keeps what was typed.
      editForm ??= editRow(s);
      rows.push(editForm);
    }
    return rows;
  }

  /** @param {string} id */
  function toggleSecret(id) {
    if (!revealed.delete(id)) revealed.add(id);
    draw();
  }

  /** @param {string | null} id */
  function toggleEdit(id) {
    const closing = editing;
    editing = editing === id ? null : id;
    editForm = null;
    draw();
    // Closed: back to the Edit button that opened it, not to the top of the page.
    if (editing === null && closing !== null) {
      /** @type {HTMLElement | null} */ (tbody.querySelector(`[data-key="${CSS.escape(`edit:${closing}`)}"]`))?.focus();
    }
  }

  /** @param {any} s */
  function editRow(s) {
    const url = /** @type {HTMLInputElement} */ (h('input', { type: 'url', value: s.url ?? '' }));
    const types = /** @type {HTMLInputElement} */ (h('input', { value: s.event_types.join(', ') }));
    const description = /** @type {HTMLInputElement} */ (h('input', { value: s.description ?? '' }));
    const error = h('p', { class: 'error-text', role: 'alert', hidden: true });
    const delivery = deliveryControls(s);
    const form = h(
      'form',
      {
        class: 'inline-form',
        'aria-label': `Edit ${s.id}`,
        onkeydown: (/** @type {KeyboardEvent} */ e) => {
          if (e.key === 'Escape') toggleEdit(null);
        },
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          error.hidden = true;
          const options = delivery.read();
          if (!options) return;
          try {
            await api.request('PATCH', `/subscriptions/${encodeURIComponent(s.id)}`, {
              url: url.value.trim() || null,
              event_types: parseTypes(types.value),
              description: description.value.trim() || null,
              ...options,
            });
            editing = null;
            editForm = null;
            toast(`Subscription ${s.id} saved`);
            load();
          } catch (err) {
            if (delivery.showApiError(err)) return;
            error.textContent = message(err);
            error.hidden = false;
          }
        },
      },
      field('URL', url, 'Empty: pull-only'),
      field('Event types', types),
      field('Description', description),
      deliveryFieldset(h('div', { class: 'inline-form' }, delivery.fields)),
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => toggleEdit(null) }, 'Cancel'),
    );
    queueMicrotask(() => url.focus());
    return h('tr', null, h('td', { colspan: '8' }, form, error));
  }

  async function create() {
    createError.hidden = true;
    const options = createDelivery.read();
    if (!options) return;
    /** @type {Record<string, unknown>} */
    const body = { event_types: parseTypes(createTypes.value || '*'), ...options };
    if (createId.value.trim()) body.id = createId.value.trim();
    if (createUrl.value.trim()) body.url = createUrl.value.trim();
    if (createDescription.value.trim()) body.description = createDescription.value.trim();
    try {
      const created = await api.post('/subscriptions', body);
      toast(`Subscription ${created.id} created`);
      for (const el of [createId, createUrl, createDescription]) el.value = '';
      createTypes.value = '*';
      createDelivery = deliveryControls();
      replace(createDeliveryBox, createDelivery.fields);
      revealed.add(created.id);
      load();
    } catch (error) {
      if (createDelivery.showApiError(error)) return;
      createError.textContent = message(error);
      createError.hidden = false;
    }
  }

  /** @param {any} s @param {'disable' | 'enable'} verb */
  async function act(s, verb) {
    try {
      await api.post(`/subscriptions/${encodeURIComponent(s.id)}/${verb}`);
      toast(`Subscription ${s.id} ${verb}d`);
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  /** @param {any} s */
  async function rotate(s) {
    if (!confirm(`Rotate the signing secret of ${s.id}? The current one keeps signing for 24 hours.`)) return;
    try {
      await api.post(`/subscriptions/${encodeURIComponent(s.id)}/rotate-secret`);
      revealed.add(s.id);
      toast(`Secret of ${s.id} rotated`);
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  /** @param {any} s */
  async function remove(s) {
    if (!confirm(`Delete subscription ${s.id}? All its deliveries go with it, dead letters included.`)) return;
    try {
      await api.request('DELETE', `/subscriptions/${encodeURIComponent(s.id)}`);
      toast(`Subscription ${s.id} deleted`);
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  /** @param {any} summary */
  function onSummary(summary) {
    const next = new Map((summary.subscriptions ?? []).map((/** @type {any} */ x) => [x.subscription_id, x]));
    const changed = [...next].some(([id, x]) => health.get(id)?.pending !== x.pending || health.get(id)?.failed !== x.failed);
    const failuresChanged = [...next].some(([id, x]) => health.get(id)?.failed !== x.failed);
    health = next;
    if (!changed || editing !== null) return;
    if (failuresChanged) loadFailures().then(draw, () => undefined);
    else draw();
  }
  const listener = (/** @type {Event} */ e) => onSummary(/** @type {CustomEvent} */ (e).detail);
  samples.addEventListener('sample', listener);
  if (samples.latest)
    health = new Map((samples.latest.subscriptions ?? []).map((/** @type {any} */ x) => [x.subscription_id, x]));
  load();
  return () => samples.removeEventListener('sample', listener);
}
