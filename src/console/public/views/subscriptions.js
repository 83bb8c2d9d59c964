// @ts-check
/**
 * Subscriptions: create one (push to a URL, or a pull-only inbox), edit its URL and filters,
 * disable and enable it, rotate its secret, delete it — and see its health live: pending
 * deliveries, dead letters and oldest pending from the live summary, the last failure from its
 * newest dead letter.
 */
import { badge, field, fmtNumber, h, message, onSubmit, replace, section, time, toast } from '../dom.js';

/** @param {string} text */
const parseTypes = (text) => text.split(/[\s,]+/).filter(Boolean);

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

  const tbody = h('tbody');
  const createId = /** @type {HTMLInputElement} */ (h('input', { name: 'id', placeholder: 'generated', autocomplete: 'off' }));
  const createUrl = /** @type {HTMLInputElement} */ (
    h('input', { name: 'url', type: 'url', placeholder: 'https://example.com/webhooks' })
  );
  const createTypes = /** @type {HTMLInputElement} */ (h('input', { name: 'event_types', value: '*' }));
  const createDescription = /** @type {HTMLInputElement} */ (h('input', { name: 'description' }));
  const createError = h('p', { class: 'error-text', role: 'alert', hidden: true });

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
        h('td', null, s.url ? h('code', null, s.url) : h('span', { class: 'muted' }, 'inbox (pull)')),
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
            button('Delete', 'delete', () => remove(s), 'danger'),
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
            h('code', { 'data-secret': s.id }, s.secret),
            s.previous_secrets.length
              ? h(
                  'div',
                  { class: 'muted' },
                  `Previous secret still signing until ${s.previous_secrets.map((p) => p.expires_at).join(', ')}`,
                )
              : null,
          ),
        ),
      );
    }
    if (editing === s.id) rows.push(editRow(s));
    return rows;
  }

  /** @param {string} id */
  function toggleSecret(id) {
    if (!revealed.delete(id)) revealed.add(id);
    draw();
  }

  /** @param {string | null} id */
  function toggleEdit(id) {
    editing = editing === id ? null : id;
    draw();
  }

  /** @param {any} s */
  function editRow(s) {
    const url = /** @type {HTMLInputElement} */ (h('input', { type: 'url', value: s.url ?? '' }));
    const types = /** @type {HTMLInputElement} */ (h('input', { value: s.event_types.join(', ') }));
    const description = /** @type {HTMLInputElement} */ (h('input', { value: s.description ?? '' }));
    const error = h('p', { class: 'error-text', role: 'alert', hidden: true });
    const form = h(
      'form',
      {
        class: 'inline-form',
        'aria-label': `Edit ${s.id}`,
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault();
          try {
            await api.request('PATCH', `/subscriptions/${encodeURIComponent(s.id)}`, {
              url: url.value.trim() || null,
              event_types: parseTypes(types.value),
              description: description.value.trim() || null,
            });
            editing = null;
            toast(`Subscription ${s.id} saved`);
            load();
          } catch (err) {
            error.textContent = message(err);
            error.hidden = false;
          }
        },
      },
      field('URL', url, 'Empty: pull-only'),
      field('Event types', types),
      field('Description', description),
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', onclick: () => toggleEdit(null) }, 'Cancel'),
    );
    queueMicrotask(() => url.focus());
    return h('tr', null, h('td', { colspan: '8' }, form, error));
  }

  async function create() {
    createError.hidden = true;
    const body = { event_types: parseTypes(createTypes.value || '*') };
    if (createId.value.trim()) body.id = createId.value.trim();
    if (createUrl.value.trim()) body.url = createUrl.value.trim();
    if (createDescription.value.trim()) body.description = createDescription.value.trim();
    try {
      const created = await api.post('/subscriptions', body);
      toast(`Subscription ${created.id} created`);
      for (const el of [createId, createUrl, createDescription]) el.value = '';
      createTypes.value = '*';
      revealed.add(created.id);
      load();
    } catch (error) {
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
    if (!confirm(`Delete subscription ${s.id}? Its pending deliveries go with it.`)) return;
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
