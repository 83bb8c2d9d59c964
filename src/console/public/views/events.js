// @ts-check
/**
 * Events: the newest first, 50 a page, paged by cursor (never all of them), filtered by type,
 * source, status and time; search by event id (opens it) or by type (`order.*` for a prefix);
 * export what the filters match as CSV or NDJSON. The first page follows new events live.
 */
import { ApiError } from '../api.js';
import {
  badge,
  field,
  h,
  localToIso,
  message,
  onSubmit,
  qs,
  rememberEventsList,
  replace,
  throttle,
  time,
  toast,
} from '../dom.js';

const PAGE = 50;

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api, live, navigate, params } = ctx;
  rememberEventsList(location.hash.startsWith('#/events') ? location.hash : '#/events');
  const filters = {
    type: params.get('type') ?? '',
    source: params.get('source') ?? '',
    status: params.get('status') ?? '',
    since: params.get('since') ?? '',
    until: params.get('until') ?? '',
  };
  /** Cursors of the pages before the current one; the current page's cursor last. */
  /** @type {(string | null)[]} */
  const cursors = [null];
  /** @type {string | null} */
  let nextCursor = null;
  let loading = false;

  const input = (name, attrs = {}) =>
    /** @type {HTMLInputElement} */ (h('input', { name, value: filters[name] ?? '', ...attrs }));
  const search = /** @type {HTMLInputElement} */ (h('input', { type: 'search', name: 'q', placeholder: 'evt_… or order.*' }));
  const type = input('type', { placeholder: 'order.created or order.*' });
  const source = input('source');
  const status = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'status' },
      ['', 'pending', 'delivered', 'failed'].map((s) => h('option', { value: s, selected: s === filters.status }, s || 'any')),
    )
  );
  const since = input('since', { type: 'datetime-local', step: '1' });
  const until = input('until', { type: 'datetime-local', step: '1' });

  const tbody = h('tbody');
  const caption = h('caption', null, 'Loading…');
  const older = h('button', { type: 'button', disabled: true, onclick: () => page(+1) }, 'Older →');
  const newer = h('button', { type: 'button', disabled: true, onclick: () => page(-1) }, '← Newer');
  const pageInfo = h('span', { class: 'muted' });
  const freshButton = h(
    'button',
    { type: 'button', class: 'small', hidden: true, onclick: () => reloadFirst() },
    'New events — show them',
  );
  const searchForm = h(
    'form',
    {
      role: 'search',
      'aria-label': 'Find an event',
      class: 'inline-form',
      onsubmit: onSubmit(() => runSearch()),
    },
    field('Search', search, 'An event id opens it; a type or filter lists those events.'),
    h('button', { type: 'submit' }, 'Search'),
  );
  const filterForm = h(
    'form',
    { class: 'inline-form', 'aria-label': 'Filter events', onsubmit: onSubmit(apply) },
    field('Type', type),
    field('Source', source),
    field('Status', status),
    field('From', since),
    field('Until', until),
    h(
      'div',
      { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
      h('button', { type: 'button', onclick: clear }, 'Clear'),
    ),
  );

  main.append(
    h('div', { class: 'spread' }, h('h1', null, 'Events'), h('a', { href: '#/send' }, 'Send a test event')),
    h('div', { class: 'card' }, searchForm, filterForm),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'events-list' },
      h(
        'div',
        { class: 'spread' },
        h('h2', { id: 'events-list' }, 'List'),
        h(
          'div',
          { class: 'actions' },
          freshButton,
          h('button', { type: 'button', onclick: () => exportAs('csv') }, 'Export CSV'),
          h('button', { type: 'button', onclick: () => exportAs('ndjson') }, 'Export NDJSON'),
        ),
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { 'aria-busy': 'false' },
          caption,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Created', 'Id', 'Type', 'Source', 'Status'].map((t, i) =>
                h('th', { scope: 'col', class: i === 3 ? 'hide-narrow' : null }, t),
              ),
            ),
          ),
          tbody,
        ),
      ),
      h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' }, newer, older, pageInfo),
    ),
  );

  function query(cursor) {
    return {
      limit: PAGE,
      cursor,
      type: filters.type,
      source: filters.source,
      status: filters.status,
      since: localToIso(filters.since),
      until: localToIso(filters.until),
    };
  }

  async function load() {
    if (loading) return;
    loading = true;
    const cursor = cursors[cursors.length - 1] ?? null;
    try {
      const page = await api.get(`/events${qs(query(cursor))}`);
      nextCursor = page.next_cursor;
      const rows = page.data.map((/** @type {any} */ e) =>
        h(
          'tr',
          null,
          h('td', null, time(e.created_at)),
          h('td', null, h('a', { href: `#/events/${encodeURIComponent(e.id)}`, class: 'mono' }, e.id)),
          h('td', null, e.type),
          h('td', { class: 'hide-narrow' }, e.source),
          h('td', null, badge(e.status)),
        ),
      );
      replace(tbody, rows.length ? rows : h('tr', null, h('td', { colspan: '5', class: 'muted' }, 'No events match.')));
      caption.textContent = `${page.data.length} event${page.data.length === 1 ? '' : 's'}, page ${cursors.length}${cursors.length === 1 ? ' (newest, updates live)' : ''}`;
      pageInfo.textContent = `Page ${cursors.length}`;
      older.toggleAttribute('disabled', !nextCursor);
      newer.toggleAttribute('disabled', cursors.length === 1);
      freshButton.hidden = true;
    } catch (error) {
      replace(tbody, h('tr', null, h('td', { colspan: '5', class: 'error-text', role: 'alert' }, message(error))));
    } finally {
      loading = false;
    }
  }

  /** @param {number} step */
  function page(step) {
    if (step > 0 && nextCursor) cursors.push(nextCursor);
    else if (step < 0 && cursors.length > 1) cursors.pop();
    load();
  }

  function reloadFirst() {
    cursors.length = 1;
    load();
  }

  function readForm() {
    filters.type = type.value.trim();
    filters.source = source.value.trim();
    filters.status = status.value;
    filters.since = since.value;
    filters.until = until.value;
  }

  function apply() {
    readForm();
    // The filters live in the address, so back/forward and a reload keep them.
    const hash = `#/events${qs(filters)}`;
    if (location.hash !== hash) history.replaceState(null, '', hash);
    rememberEventsList(hash);
    reloadFirst();
  }

  function clear() {
    for (const el of [type, source, since, until, search]) el.value = '';
    status.value = '';
    apply();
  }

  async function runSearch() {
    const text = search.value.trim();
    if (!text) return;
    if (/^evt_[A-Za-z0-9]+$/.test(text)) {
      try {
        await api.get(`/events/${encodeURIComponent(text)}`);
        navigate(`#/events/${encodeURIComponent(text)}`);
      } catch (error) {
        toast(error instanceof ApiError && error.status === 404 ? `No event ${text}` : message(error), 'error');
      }
      return;
    }
    type.value = text;
    apply();
  }

  /** @param {'csv' | 'ndjson'} format */
  async function exportAs(format) {
    readForm();
    const { limit: _l, cursor: _c, ...rest } = query(null);
    try {
      await api.download(`/events/export${qs({ format, ...rest })}`, `events.${format}`);
      toast(`Export (${format.toUpperCase()}) downloaded`);
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  // Live: the first page refreshes itself, unless the keyboard is in the table (a refresh would
  // move the focus away); then a button offers the new events.
  const refresh = throttle(() => {
    if (cursors.length !== 1) return;
    if (tbody.contains(document.activeElement)) freshButton.hidden = false;
    else load();
  }, 1000);
  live.addEventListener('event', refresh);
  live.addEventListener('delivery', refresh);
  load();
  return () => {
    live.removeEventListener('event', refresh);
    live.removeEventListener('delivery', refresh);
  };
}
