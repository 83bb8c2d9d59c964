// @ts-check
/**
 * Dead letters: deliveries that failed for good. Filter by subscription, type and time; inspect
 * one (its event, last status or error); replay one, or replay every one the filter matches.
 */
import { field, h, jsonBlock, localToIso, message, onSubmit, qs, replace, throttle, time, toast } from '../dom.js';

const PAGE = 50;

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api, live, params } = ctx;
  const subscription = /** @type {HTMLSelectElement} */ (
    h('select', { name: 'subscription' }, h('option', { value: '' }, 'any'))
  );
  const type = /** @type {HTMLInputElement} */ (
    h('input', { name: 'type', placeholder: 'order.*', value: params.get('type') ?? '' })
  );
  const since = /** @type {HTMLInputElement} */ (h('input', { name: 'since', type: 'datetime-local', step: '1' }));
  const until = /** @type {HTMLInputElement} */ (h('input', { name: 'until', type: 'datetime-local', step: '1' }));
  const wanted = params.get('subscription') ?? '';
  /** @type {(string | null)[]} */
  const cursors = [null];
  /** @type {string | null} */
  let nextCursor = null;
  const tbody = h('tbody');
  const caption = h('caption', null, 'Loading…');
  const older = h('button', { type: 'button', disabled: true, onclick: () => turn(+1) }, 'Older →');
  const newer = h('button', { type: 'button', disabled: true, onclick: () => turn(-1) }, '← Newer');
  const replayAll = h('button', { type: 'button', onclick: replayMatching }, 'Replay all matching');

  main.append(
    h('h1', null, 'Dead letters'),
    h(
      'form',
      {
        class: 'card inline-form',
        'aria-label': 'Filter dead letters',
        onsubmit: onSubmit(firstPage),
      },
      field('Subscription', subscription),
      field('Type', type),
      field('Failed from', since),
      field('Failed until', until),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Apply filters'), replayAll),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'dl-list' },
      h('h2', { id: 'dl-list' }, 'Failed deliveries'),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          caption,
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              ['Failed', 'Event', 'Type', 'Subscription', 'Attempts', 'Last result', 'Actions'].map((t) =>
                h('th', { scope: 'col' }, t),
              ),
            ),
          ),
          tbody,
        ),
      ),
      h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' }, newer, older),
    ),
  );

  /** @param {number} step */
  function turn(step) {
    if (step > 0 && nextCursor) cursors.push(nextCursor);
    if (step < 0 && cursors.length > 1) cursors.pop();
    load();
  }

  function firstPage() {
    cursors.length = 1;
    load();
  }

  function filter() {
    return {
      subscription: subscription.value,
      type: type.value.trim(),
      since: localToIso(since.value),
      until: localToIso(until.value),
    };
  }

  async function load() {
    try {
      const page = await api.get(`/dead-letters${qs({ ...filter(), limit: PAGE, cursor: cursors[cursors.length - 1] })}`);
      nextCursor = page.next_cursor;
      replace(
        tbody,
        page.data.length
          ? page.data.flatMap(row)
          : h('tr', null, h('td', { colspan: '7', class: 'muted' }, 'No dead letters match.')),
      );
      caption.textContent = `${page.data.length} dead letter${page.data.length === 1 ? '' : 's'}, page ${cursors.length}`;
      older.toggleAttribute('disabled', !nextCursor);
      newer.toggleAttribute('disabled', cursors.length === 1);
    } catch (error) {
      replace(tbody, h('tr', null, h('td', { colspan: '7', class: 'error-text', role: 'alert' }, message(error))));
    }
  }

  /** @param {any} d */
  function row(d) {
    const details = h(
      'tr',
      { hidden: true },
      h(
        'td',
        { colspan: '7' },
        h('h3', null, 'Payload'),
        jsonBlock(d.event.payload, `Payload of ${d.event.id}`),
        d.last_error ? h('p', null, 'Last error: ', h('code', null, d.last_error)) : null,
      ),
    );
    const inspect = h(
      'button',
      {
        type: 'button',
        class: 'small',
        'aria-expanded': 'false',
        'aria-label': `Inspect ${d.event.id}`,
        onclick: () => {
          details.hidden = !details.hidden;
          inspect.setAttribute('aria-expanded', String(!details.hidden));
        },
      },
      'Inspect',
    );
    return [
      h(
        'tr',
        null,
        h('td', null, time(d.updated_at)),
        h('td', null, h('a', { href: `#/events/${encodeURIComponent(d.event.id)}`, class: 'mono' }, d.event.id)),
        h('td', null, d.event.type),
        h('td', null, h('code', null, d.subscription_id)),
        h('td', { class: 'num' }, String(d.attempts_count)),
        h('td', null, d.last_status_code ? `HTTP ${d.last_status_code}` : (d.last_error ?? '—')),
        h(
          'td',
          null,
          h(
            'div',
            { class: 'actions' },
            inspect,
            h(
              'button',
              {
                type: 'button',
                class: 'small',
                'aria-label': `Replay ${d.event.id} to ${d.subscription_id}`,
                onclick: () => replayOne(d),
              },
              'Replay',
            ),
          ),
        ),
      ),
      details,
    ];
  }

  /** @param {any} d */
  async function replayOne(d) {
    try {
      await api.post(`/deliveries/${encodeURIComponent(d.id)}/replay`);
      toast(`Replayed ${d.event.id} to ${d.subscription_id}`);
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  async function replayMatching() {
    const f = filter();
    const described =
      Object.entries(f)
        .filter(([, v]) => v)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ') || 'no filter: every dead letter';
    if (!confirm(`Replay all dead letters matching ${described}?`)) return;
    try {
      const body = Object.fromEntries(Object.entries(f).filter(([, v]) => v));
      const { replayed } = await api.post('/dead-letters/replay', body);
      toast(`Replayed ${replayed} dead letter${replayed === 1 ? '' : 's'}`);
      cursors.length = 1;
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  api.get('/subscriptions').then(
    (res) => {
      for (const s of res.data) subscription.append(h('option', { value: s.id, selected: s.id === wanted }, s.id));
      load();
    },
    () => load(),
  );
  const refresh = throttle(() => cursors.length === 1 && load(), 1000);
  live.addEventListener('delivery', refresh);
  return () => live.removeEventListener('delivery', refresh);
}
