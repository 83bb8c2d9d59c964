// @ts-check
/**
 * One event: its envelope and payload, one delivery per subscription, and every attempt of each
 * (time, duration, status code or error, response excerpt). Follows the deliveries live; can
 * replay a dead-lettered delivery and erase the event.
 */
import { ApiError } from '../api.js';
import { badge, eventsListHash, fmtNumber, h, jsonBlock, message, replace, section, throttle, time, toast } from '../dom.js';

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api, live, id, navigate } = ctx;
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const announce = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  main.append(
    h('p', null, h('a', { href: eventsListHash() }, '← Events')),
    h('h1', null, 'Event ', h('code', null, id)),
    announce,
    body,
  );
  let lastStatus = '';

  async function load() {
    let event;
    try {
      event = await api.get(`/events/${encodeURIComponent(id)}`);
    } catch (error) {
      replace(
        body,
        h(
          'p',
          { class: 'error-text', role: 'alert' },
          error instanceof ApiError && error.status === 404
            ? 'No such event (it may have been erased or expired).'
            : message(error),
        ),
      );
      return;
    }
    if (lastStatus && lastStatus !== event.status) announce.textContent = `Status is now ${event.status}.`;
    lastStatus = event.status;
    replace(
      body,
      h(
        'div',
        { class: 'two-col' },
        section(
          'Envelope',
          h(
            'dl',
            { class: 'props' },
            h('dt', null, 'Status'),
            h('dd', null, badge(event.status)),
            h('dt', null, 'Type'),
            h('dd', null, event.type),
            h('dt', null, 'Source'),
            h('dd', null, event.source),
            h('dt', null, 'Created'),
            h('dd', null, time(event.created_at)),
          ),
          h(
            'div',
            { class: 'actions', style: null },
            h('button', { type: 'button', class: 'danger', onclick: erase }, 'Erase event'),
          ),
        ),
        section('Payload', jsonBlock(event.payload, 'Payload')),
      ),
      section(
        `Deliveries (${event.deliveries.length})`,
        event.deliveries.length === 0 ? h('p', { class: 'muted' }, 'No subscription matched this event.') : null,
        event.deliveries.map((/** @type {any} */ d) => delivery(d)),
      ),
    );
  }

  /** @param {any} d */
  function delivery(d) {
    const title = h(
      'h3',
      null,
      'To ',
      h('a', { href: '#/subscriptions' }, h('code', null, d.subscription_id)),
      ' ',
      badge(d.status),
    );
    return h(
      'article',
      { class: 'delivery', 'aria-label': `Delivery to ${d.subscription_id}` },
      title,
      h(
        'dl',
        { class: 'props' },
        h('dt', null, 'Attempts'),
        h('dd', null, String(d.attempts_count)),
        h('dt', null, 'Next attempt'),
        h('dd', null, time(d.next_attempt_at)),
        h('dt', null, 'Latency'),
        h('dd', null, d.latency_ms === null ? '—' : `${fmtNumber(d.latency_ms)} ms`),
        h('dt', null, 'Delivery id'),
        h('dd', null, h('code', null, d.id)),
      ),
      d.status === 'failed'
        ? h('p', null, h('button', { type: 'button', onclick: () => replay(d.id) }, 'Replay this delivery'))
        : null,
      d.attempts.length === 0
        ? h('p', { class: 'muted' }, 'No attempt yet.')
        : h(
            'div',
            { class: 'table-wrap' },
            h(
              'table',
              null,
              h('caption', null, `Attempts to ${d.subscription_id}`),
              h(
                'thead',
                null,
                h(
                  'tr',
                  null,
                  ['#', 'At', 'Duration', 'Status', 'Error', 'Response'].map((t) => h('th', { scope: 'col' }, t)),
                ),
              ),
              h(
                'tbody',
                null,
                d.attempts.map((/** @type {any} */ a) =>
                  h(
                    'tr',
                    null,
                    h('td', { class: 'num' }, String(a.n)),
                    h('td', null, time(a.at)),
                    h('td', { class: 'num' }, a.duration_ms === null ? '—' : `${fmtNumber(a.duration_ms)} ms`),
                    h(
                      'td',
                      null,
                      a.status_code === null ? '—' : badge(a.status_code >= 200 && a.status_code < 300 ? 'delivered' : 'failed'),
                      ' ',
                      a.status_code ?? '',
                    ),
                    h('td', null, a.error ?? '—'),
                    h('td', { class: 'response' }, a.response ? h('code', null, a.response.slice(0, 300)) : '—'),
                  ),
                ),
              ),
            ),
          ),
    );
  }

  /** @param {string} deliveryId */
  async function replay(deliveryId) {
    try {
      await api.post(`/deliveries/${encodeURIComponent(deliveryId)}/replay`);
      toast('Delivery replayed: it is pending again');
      load();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  async function erase() {
    if (!confirm(`Erase event ${id}, its payload, deliveries and attempts? This cannot be undone.`)) return;
    try {
      await api.request('DELETE', `/events/${encodeURIComponent(id)}`);
      toast(`Event ${id} erased`);
      navigate(eventsListHash());
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  const refresh = throttle(() => {
    if (lastStatus === 'pending' || lastStatus === '') load();
  }, 1000);
  live.addEventListener('delivery', refresh);
  load();
  return () => live.removeEventListener('delivery', refresh);
}
