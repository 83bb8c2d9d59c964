// @ts-check
/**
 * Dashboard: the seed's five metrics as live charts (events processed, successful deliveries,
 * failed deliveries, delivery latency, retries), drawn with uPlot from the samples the live feed
 * pushes every second, plus the current counts: queue depth, dead letters, error rate.
 */

import { fmtNumber, h, replace, section } from '../dom.js';
import uPlot from '../vendor/uPlot.esm.js';

const COLORS = { blue: '#3b6fe0', green: '#1f9d55', red: '#d64545', amber: '#c98a00', violet: '#8a5cd6' };

const CHARTS = [
  { id: 'events', title: 'Events processed', unit: '/s', series: [{ key: 'events', label: 'events/s', color: COLORS.blue }] },
  {
    id: 'succeeded',
    title: 'Successful deliveries',
    unit: '/s',
    series: [{ key: 'succeeded', label: 'delivered/s', color: COLORS.green }],
  },
  {
    id: 'failed',
    title: 'Failed deliveries',
    unit: '/s',
    series: [{ key: 'failed', label: 'dead-lettered/s', color: COLORS.red }],
  },
  {
    id: 'latency',
    title: 'Delivery latency',
    unit: ' ms',
    series: [
      { key: 'p50', label: 'p50 ms', color: COLORS.blue },
      { key: 'p95', label: 'p95 ms', color: COLORS.amber },
      { key: 'p99', label: 'p99 ms', color: COLORS.violet },
    ],
  },
  { id: 'retries', title: 'Retries', unit: '/s', series: [{ key: 'retries', label: 'retries/s', color: COLORS.amber }] },
];

let cssLoaded = false;
function loadChartCss() {
  if (cssLoaded) return;
  cssLoaded = true;
  document.head.append(h('link', { rel: 'stylesheet', href: '/console/vendor/uPlot.min.css' }));
}

/** @param {number | null | undefined} v @param {string} unit */
const fmtRate = (v, unit) => (v === null || v === undefined ? '—' : `${fmtNumber(v, v < 10 ? 2 : 0)}${unit}`);

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  loadChartCss();
  const { samples } = ctx;
  const muted = getComputedStyle(document.documentElement).getPropertyValue('--muted').trim() || '#666';
  const grid = getComputedStyle(document.documentElement).getPropertyValue('--line').trim() || '#ddd';

  const tiles = h('div', { class: 'tiles' });
  const chartsEl = h('div', { class: 'charts' });
  const subsBody = h('tbody');
  const waiting = h('p', { class: 'muted' }, 'Waiting for the first numbers from the server…');
  main.append(
    h('h1', null, 'Dashboard'),
    waiting,
    h('div', { role: 'region', 'aria-label': 'Current numbers' }, tiles),
    chartsEl,
    section(
      'Subscriptions',
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          null,
          h('caption', null, 'Queue per subscription (live)'),
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              h('th', { scope: 'col' }, 'Subscription'),
              h('th', { scope: 'col', class: 'num' }, 'Pending'),
              h('th', { scope: 'col', class: 'num' }, 'Dead letters'),
              h('th', { scope: 'col' }, 'Oldest pending'),
            ),
          ),
          subsBody,
        ),
      ),
    ),
  );

  const charts = CHARTS.map((spec) => {
    const now = h('span', { class: 'now' }, '—');
    const plot = h('div', { class: 'plot', role: 'img', 'aria-label': `${spec.title}: no data yet` });
    const figure = h('figure', { class: 'chart' }, h('figcaption', null, h('span', null, spec.title), now), plot);
    chartsEl.append(figure);
    const keys = spec.series.map((s) => s.key);
    const width = Math.max(240, plot.clientWidth || 360);
    const chart = new uPlot(
      {
        width,
        height: 170,
        cursor: { drag: { x: false, y: false } },
        // Names and colours only: the values under the cursor read "--" until one hovers, and the
        // latest values are in the caption.
        legend: { show: spec.series.length > 1, live: false },
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, Math.max(max ?? 0, spec.unit === '/s' ? 1 : 10) * 1.1] },
        },
        axes: [
          { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
          { stroke: muted, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 50 },
        ],
        series: [
          {},
          ...spec.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            fill: spec.series.length === 1 ? `${s.color}22` : undefined,
            spanGaps: true,
          })),
        ],
      },
      /** @type {any} */ (samples.columns(keys)),
      plot,
    );
    return { spec, keys, chart, now, plot };
  });

  function drawCharts() {
    for (const c of charts) {
      const cols = samples.columns(c.keys);
      c.chart.setData(/** @type {any} */ (cols));
      const last = cols.slice(1).map((col) => col[col.length - 1]);
      const text = c.spec.series
        .map((s, i) => `${c.spec.series.length > 1 ? `${s.key} ` : ''}${fmtRate(last[i], c.spec.unit)}`)
        .join(' · ');
      c.now.textContent = text;
      c.plot.setAttribute('aria-label', `${c.spec.title}, last ${samples.length} seconds; now ${text}`);
    }
  }

  /** @param {any} s */
  function drawNumbers(s) {
    waiting.hidden = true;
    const counts = s.counts ?? {};
    const totals = s.totals ?? {};
    const tile = (label, value) =>
      h('div', { class: 'tile' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value));
    replace(
      tiles,
      tile('Events stored', fmtNumber(counts.events)),
      tile('Queue depth (pending)', fmtNumber(counts.pending)),
      tile('Dead letters', fmtNumber(counts.failed)),
      tile('Subscriptions', fmtNumber(counts.subscriptions)),
      tile(
        'Error rate (1 min)',
        s.error_rate === null || s.error_rate === undefined ? '—' : `${fmtNumber(s.error_rate * 100, 1)} %`,
      ),
      tile('Events/s (1 min)', fmtNumber(s.throughput?.events_per_second, 2)),
      tile('Deliveries/s (1 min)', fmtNumber(s.throughput?.deliveries_per_second, 2)),
      tile(
        'Latency p95 (1 min)',
        s.latency_ms?.p95 === null || s.latency_ms?.p95 === undefined ? '—' : `${fmtNumber(s.latency_ms.p95, 1)} ms`,
      ),
      tile('Delivered (since start)', fmtNumber(totals.deliveries_succeeded)),
      tile('Dead-lettered (since start)', fmtNumber(totals.deliveries_failed)),
      tile('Retries (since start)', fmtNumber(totals.delivery_retries)),
    );
    replace(
      subsBody,
      (s.subscriptions ?? []).map((/** @type {any} */ sub) =>
        h(
          'tr',
          null,
          h('th', { scope: 'row' }, h('code', null, sub.subscription_id)),
          h('td', { class: 'num' }, fmtNumber(sub.pending)),
          h(
            'td',
            { class: 'num' },
            sub.failed > 0
              ? h('a', { href: `#/dead-letters?subscription=${encodeURIComponent(sub.subscription_id)}` }, fmtNumber(sub.failed))
              : '0',
          ),
          h(
            'td',
            null,
            sub.oldest_pending_at ? `${fmtNumber((Date.now() - Date.parse(sub.oldest_pending_at)) / 1000, 0)} s ago` : '—',
          ),
        ),
      ),
    );
  }

  const onSample = (/** @type {Event} */ e) => {
    drawNumbers(/** @type {CustomEvent} */ (e).detail);
    drawCharts();
  };
  samples.addEventListener('sample', onSample);
  if (samples.latest) {
    drawNumbers(samples.latest);
    drawCharts();
  }

  const resize = new ResizeObserver(() => {
    for (const c of charts) {
      const w = Math.floor(c.plot.clientWidth);
      if (w > 0 && Math.abs(w - c.chart.width) > 2) c.chart.setSize({ width: w, height: 170 });
    }
  });
  resize.observe(chartsEl);

  return () => {
    samples.removeEventListener('sample', onSample);
    resize.disconnect();
    for (const c of charts) c.chart.destroy();
  };
}
