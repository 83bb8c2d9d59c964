// @ts-check
/**
 * Receiver log: what the built-in receiver (`POST /receiver/{name}`) recorded, newest first,
 * with each request's signature verdict; new requests appear as they arrive. Also: connect a
 * demo subscription to the receiver in one click (receiverDemo.js), set a receiver's secret,
 * clear its log, and check an HMAC by hand (POST /receivers/verify), with the secret that
 * signed the request filled in when one of this server's subscriptions has it.
 */
import { badge, field, h, jsonBlock, message, onSubmit, qs, replace, section, time, toast } from '../dom.js';
import { DEMO, demoCard, receiverOf } from './receiverDemo.js';

const PAGE = 50;
const VERDICTS = ['verified', 'invalid_signature', 'stale_timestamp', 'missing_signature', 'unsigned'];

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api, live } = ctx;
  const name = /** @type {HTMLSelectElement} */ (h('select', { name: 'name' }, h('option', { value: '' }, 'all receivers')));
  const verdict = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { name: 'verdict' },
      h('option', { value: '' }, 'any'),
      VERDICTS.map((v) => h('option', { value: v }, v.replace(/_/g, ' '))),
    )
  );
  /** @type {(string | null)[]} */
  const cursors = [null];
  /** @type {string | null} */
  let nextCursor = null;
  const tbody = h('tbody');
  const caption = h('caption', null, 'Loading…');
  const arrivals = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const older = h('button', { type: 'button', disabled: true, onclick: () => turn(+1) }, 'Older →');
  const newer = h('button', { type: 'button', disabled: true, onclick: () => turn(-1) }, '← Newer');
  const clearButton = h('button', { type: 'button', class: 'danger', disabled: true, onclick: clearLog }, 'Clear this log');

  // ── HMAC tool ────────────────────────────────────────────────────────────────────────
  const tool = {
    secret: /** @type {HTMLInputElement} */ (
      h('input', {
        name: 'secret',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: 'whsec_…',
        oninput: () => replace(secretSource),
      })
    ),
    body: /** @type {HTMLTextAreaElement} */ (h('textarea', { name: 'body', rows: '5', spellcheck: 'false' })),
    id: /** @type {HTMLInputElement} */ (h('input', { name: 'webhook-id', spellcheck: 'false' })),
    timestamp: /** @type {HTMLInputElement} */ (h('input', { name: 'webhook-timestamp', inputmode: 'numeric' })),
    signature: /** @type {HTMLInputElement} */ (
      h('input', { name: 'webhook-signature', spellcheck: 'false', placeholder: 'v1,…' })
    ),
    legacy: /** @type {HTMLInputElement} */ (h('input', { name: 'legacy_signature', spellcheck: 'false', placeholder: 'hex' })),
  };
  const toolResult = h('div', { role: 'status', 'aria-live': 'polite' });
  const secretSource = h('p', { class: 'muted' });

  const secretName = /** @type {HTMLInputElement} */ (h('input', { name: 'receiver', value: DEMO.name }));
  const secretValue = /** @type {HTMLInputElement} */ (
    h('input', { name: 'receiver_secret', autocomplete: 'off', spellcheck: 'false' })
  );

  main.append(
    h('h1', null, 'Receiver log'),
    h(
      'div',
      { class: 'two-col' },
      demoCard(api, live, loadNames),
      section(
        'Receiver secret',
        h(
          'form',
          { class: 'inline-form', onsubmit: onSubmit(setSecret) },
          field('Receiver name', secretName),
          field('Secret to verify with', secretValue, 'A subscription’s whsec_… secret'),
          h('button', { type: 'submit' }, 'Set secret'),
        ),
      ),
    ),
    h(
      'section',
      { class: 'card', 'aria-labelledby': 'rx-list' },
      h('div', { class: 'spread' }, h('h2', { id: 'rx-list' }, 'Requests'), clearButton),
      h(
        'form',
        {
          class: 'inline-form',
          'aria-label': 'Filter requests',
          onchange: () => turn(0),
          onsubmit: onSubmit(() => turn(0)),
        },
        field('Receiver', name),
        field('Verdict', verdict),
      ),
      arrivals,
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
              ['Received', 'Receiver', 'Verdict', 'webhook-id', 'Request', 'Actions'].map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          tbody,
        ),
      ),
      h('div', { class: 'pager', role: 'navigation', 'aria-label': 'Pages' }, newer, older),
    ),
    section(
      'Check a signature by hand',
      h(
        'form',
        { onsubmit: onSubmit(check) },
        h(
          'div',
          { class: 'row' },
          field('Signing secret', tool.secret),
          field('webhook-id', tool.id),
          field('webhook-timestamp', tool.timestamp, 'Unix seconds'),
        ),
        h(
          'div',
          { class: 'row' },
          field('webhook-signature', tool.signature, 'One or more v1,… separated by spaces'),
          field('X-Webhook-Signature (legacy)', tool.legacy),
        ),
        secretSource,
        field('Raw body', tool.body, 'Exactly as sent'),
        h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Check signature')),
      ),
      toolResult,
    ),
  );

  /** @param {number} step +1 older, -1 newer, 0 first page */
  function turn(step) {
    if (step > 0 && nextCursor) cursors.push(nextCursor);
    else if (step < 0 && cursors.length > 1) cursors.pop();
    else if (step === 0) {
      cursors.length = 1;
      arrivals.textContent = '';
    }
    load();
  }

  const params = () => ({ verdict: verdict.value, limit: PAGE, cursor: cursors[cursors.length - 1] });

  async function load() {
    clearButton.toggleAttribute('disabled', !name.value);
    try {
      const path = name.value
        ? `/receivers/${encodeURIComponent(name.value)}/requests${qs(params())}`
        : `/receiver-requests${qs(params())}`;
      const page = await api.get(path);
      nextCursor = page.next_cursor;
      replace(tbody, page.data.length ? page.data.flatMap((/** @type {any} */ r) => row(r, false)) : emptyRow());
      caption.textContent = `${page.data.length} request${page.data.length === 1 ? '' : 's'}, page ${cursors.length}${cursors.length === 1 ? ' (new ones appear live)' : ''}`;
      older.toggleAttribute('disabled', !nextCursor);
      newer.toggleAttribute('disabled', cursors.length === 1);
    } catch (error) {
      replace(tbody, h('tr', null, h('td', { colspan: '6', class: 'error-text', role: 'alert' }, message(error))));
    }
  }

  const emptyRow = () => h('tr', { 'data-empty': '' }, h('td', { colspan: '6', class: 'muted' }, 'Nothing received yet.'));

  /**
   * The request whole: one that arrived live carries a preview of a long body (body_truncated),
   * which would show cut and check as a wrong signature; the log API has it all.
   * @param {any} r @returns {Promise<any>}
   */
  async function whole(r) {
    if (!r.body_truncated) return r;
    const full = await api.get(`/receivers/${encodeURIComponent(r.name)}/requests/${encodeURIComponent(r.id)}`);
    Object.assign(r, full, { body_truncated: false });
    return r;
  }

  /** @param {any} r @param {boolean} fresh */
  function row(r, fresh) {
    const bodyBlock = h('pre', { class: 'json', tabindex: '0', 'aria-label': 'Body' }, r.body);
    const details = h(
      'tr',
      { hidden: true },
      h(
        'td',
        { colspan: '6' },
        h(
          'div',
          { class: 'two-col' },
          h('div', null, h('h3', null, 'Headers'), jsonBlock(r.headers, 'Headers')),
          h('div', null, h('h3', null, 'Body'), bodyBlock),
        ),
      ),
    );
    const inspect = h(
      'button',
      {
        type: 'button',
        class: 'small',
        'aria-expanded': 'false',
        onclick: async () => {
          if (details.hidden && r.body_truncated) {
            try {
              replace(bodyBlock, (await whole(r)).body);
            } catch (error) {
              toast(`Could not load the whole body: ${message(error)}`);
            }
          }
          details.hidden = !details.hidden;
          inspect.setAttribute('aria-expanded', String(!details.hidden));
        },
      },
      'Inspect',
    );
    const flags = [r.duplicate ? badge('duplicate') : null, r.legacy ? h('span', { class: 'muted' }, ' legacy') : null];
    return [
      h(
        'tr',
        { class: fresh ? 'fresh' : null, 'data-verdict': r.verdict },
        h('td', null, time(r.received_at)),
        h('td', null, h('code', null, r.name)),
        h('td', null, badge(r.verdict), ' ', flags),
        h('td', null, r.webhook_id ? h('code', null, r.webhook_id) : '—'),
        h('td', null, h('code', null, `${r.method} ${r.path}`)),
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
                onclick: () =>
                  whole(r).then(loadIntoTool, (error) => toast(`Could not load the whole request: ${message(error)}`)),
              },
              'Check HMAC',
            ),
          ),
        ),
      ),
      details,
    ];
  }

  /** @param {any} r */
  function loadIntoTool(r) {
    tool.body.value = r.body;
    tool.id.value = r.headers['webhook-id'] ?? '';
    tool.timestamp.value = r.headers['webhook-timestamp'] ?? '';
    tool.signature.value = r.headers['webhook-signature'] ?? '';
    tool.legacy.value = r.headers['x-webhook-signature'] ?? '';
    tool.secret.value = '';
    replace(secretSource);
    replace(toolResult);
    tool.secret.focus();
    fillSecret(r).then((from) => {
      if (from) toast(`Request loaded into the signature checker, with the secret of subscription ${from}`);
      else toast('Request loaded into the signature checker: enter the secret (Subscriptions → Show secret)');
    });
  }

  /**
   * Fills the checker's secret with the one that signed the request, if a subscription of this
   * server's that delivers to the receiver has it (current or previous). The receiver's own secret
   * is write-only in the API, so the subscriptions' secrets are what can be offered.
   * @param {any} r @returns {Promise<string | null>} the subscription's id
   */
  async function fillSecret(r) {
    const legacySignature = r.headers['x-webhook-signature'];
    const headers = Object.fromEntries(
      ['webhook-id', 'webhook-timestamp', 'webhook-signature'].flatMap((k) => (r.headers[k] ? [[k, r.headers[k]]] : [])),
    );
    if (!headers['webhook-signature'] && !legacySignature) return null;
    try {
      const { data } = await api.get('/subscriptions');
      for (const s of data.filter((/** @type {any} */ s) => receiverOf(s.url, live) === r.name)) {
        for (const secret of [s.secret, ...s.previous_secrets.map((/** @type {any} */ p) => p.secret)]) {
          const res = await api.post('/receivers/verify', { secret, body: r.body, headers });
          if (!res.signature_matches && res.expected_legacy_signature !== legacySignature) continue;
          // Another request was loaded, or the user typed a secret of their own, meanwhile.
          if (tool.secret.value !== '' || tool.body.value !== r.body) return null;
          tool.secret.value = secret;
          replace(
            secretSource,
            'Filled in: the secret of subscription ',
            h('code', null, s.id),
            ' (Subscriptions → Show secret).',
          );
          return s.id;
        }
      }
    } catch {
      // the user can still paste the secret
    }
    return null;
  }

  const signatureHeaders = () =>
    Object.fromEntries(
      [
        ['webhook-id', tool.id.value.trim()],
        ['webhook-timestamp', tool.timestamp.value.trim()],
        ['webhook-signature', tool.signature.value.trim()],
      ].filter(([, v]) => v),
    );
  const legacy = () => (tool.legacy.value.trim() ? { legacy_signature: tool.legacy.value.trim() } : {});

  async function check() {
    if (!tool.secret.value) {
      replace(toolResult, h('p', { class: 'error-text', role: 'alert' }, 'Enter the secret to check with.'));
      tool.secret.focus();
      return;
    }
    try {
      const res = await api.post('/receivers/verify', {
        secret: tool.secret.value,
        body: tool.body.value,
        headers: signatureHeaders(),
        ...legacy(),
      });
      replace(
        toolResult,
        h(
          'div',
          { class: 'verdict-box' },
          h('p', null, 'Verdict: ', badge(res.verdict), res.legacy ? ' (legacy signature)' : ''),
          h('p', null, res.signature_matches ? 'A signature matches.' : 'No signature matches.'),
          h(
            'dl',
            { class: 'props' },
            h('dt', null, 'Expected webhook-signature'),
            h(
              'dd',
              null,
              res.expected_signature
                ? h('code', null, res.expected_signature)
                : h('span', { class: 'muted' }, 'needs webhook-id and webhook-timestamp'),
            ),
            h('dt', null, 'Expected legacy signature'),
            h('dd', null, h('code', null, res.expected_legacy_signature)),
          ),
        ),
      );
    } catch (error) {
      replace(toolResult, h('p', { class: 'error-text', role: 'alert' }, message(error)));
    }
  }

  async function loadNames() {
    try {
      const { data } = await api.get('/receivers');
      const current = name.value;
      replace(
        name,
        h('option', { value: '' }, 'all receivers'),
        data.map((/** @type {any} */ r) =>
          h(
            'option',
            { value: r.name, selected: r.name === current },
            `${r.name} (${r.count}${r.verifies_with === 'own_secret' ? ', own secret' : r.verifies_with ? ', shared secret' : ', unsigned'})`,
          ),
        ),
      );
    } catch {
      // the list still works for all receivers
    }
  }

  async function setSecret() {
    try {
      await api.request('PUT', `/receivers/${encodeURIComponent(secretName.value.trim())}/secret`, { secret: secretValue.value });
      secretValue.value = '';
      toast(`Secret of receiver ${secretName.value.trim()} set`);
      loadNames();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  async function clearLog() {
    if (!name.value || !confirm(`Clear the log of receiver ${name.value}?`)) return;
    try {
      const { deleted } = await api.request('DELETE', `/receivers/${encodeURIComponent(name.value)}/requests`);
      toast(`Cleared ${deleted} request${deleted === 1 ? '' : 's'}`);
      cursors.length = 1;
      load();
      loadNames();
    } catch (error) {
      toast(message(error), 'error');
    }
  }

  const onReceived = (/** @type {Event} */ e) => {
    const r = /** @type {CustomEvent} */ (e).detail;
    // Only what this filter shows is announced: a notice about another receiver would read as this one's.
    if ((name.value && name.value !== r.name) || (verdict.value && verdict.value !== r.verdict)) return;
    arrivals.textContent = `Received on ${r.name}: ${r.verdict.replace(/_/g, ' ')}${r.duplicate ? ' (duplicate)' : ''}`;
    if (cursors.length !== 1) return;
    tbody.querySelector('[data-empty]')?.remove();
    tbody.prepend(...row(r, true));
    while (tbody.rows.length > PAGE * 2) tbody.rows[tbody.rows.length - 1]?.remove();
    if (![...name.options].some((o) => o.value === r.name)) loadNames();
  };
  live.addEventListener('received', onReceived);
  loadNames();
  load();
  return () => live.removeEventListener('received', onReceived);
}
