// @ts-check
/**
 * Send a test event: type, source and a JSON payload typed in an editor that is checked as you
 * type and again before sending — valid JSON, an object, a valid type — with the problem shown
 * next to the field. Nothing is sent until all three are right.
 */
import { field, fieldError, h, message, replace, toast } from '../dom.js';

// The server's rule for types (src/core/filters.ts).
const TYPE = /^[A-Za-z0-9_\-:/]+(\.[A-Za-z0-9_\-:/]+)*$/;
const EXAMPLE = '{\n  "message": "Hello from the Triggers console",\n  "order_id": 1234\n}';

/** Where a JSON.parse error is, as "line L, column C", from the message's position. @param {string} text @param {Error} error */
function where(text, error) {
  const pos = /position (\d+)/.exec(error.message);
  const lc = /line (\d+) column (\d+)/.exec(error.message);
  if (lc) return `line ${lc[1]}, column ${lc[2]}`;
  if (!pos) return null;
  const before = text.slice(0, Number(pos[1]));
  const lines = before.split('\n');
  return `line ${lines.length}, column ${(lines[lines.length - 1] ?? '').length + 1}`;
}

/** @returns {{ ok: true, value: any } | { ok: false, error: string }} @param {string} text */
export function checkPayload(text) {
  if (text.trim() === '') return { ok: false, error: 'The payload is empty: write a JSON object, e.g. {"n": 1}.' };
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = where(text, /** @type {Error} */ (error));
    return { ok: false, error: `Not valid JSON${at ? ` (${at})` : ''}: ${message(error)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      ok: false,
      error: `The payload must be a JSON object ({…}), not ${Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`}.`,
    };
  }
  return { ok: true, value };
}

/** @param {string} type */
export function checkType(type) {
  if (type === '') return 'The type is required, e.g. order.created.';
  if (type.length > 200) return 'The type is at most 200 characters.';
  if (!TYPE.test(type)) return 'Use dot-separated words of letters, digits and _ - : / (e.g. order.created).';
  return null;
}

/** @param {HTMLElement} main @param {any} ctx */
export function mount(main, ctx) {
  const { api } = ctx;
  const type = /** @type {HTMLInputElement} */ (
    h('input', { name: 'type', value: 'test.event', autocomplete: 'off', spellcheck: 'false' })
  );
  const source = /** @type {HTMLInputElement} */ (h('input', { name: 'source', value: 'console', autocomplete: 'off' }));
  const payload = /** @type {HTMLTextAreaElement} */ (h('textarea', { name: 'payload', rows: '12', spellcheck: 'false' }));
  payload.value = EXAMPLE;
  const result = h('div', { role: 'status', 'aria-live': 'polite' });
  const send = h('button', { type: 'submit', class: 'primary' }, 'Send event');

  function validate() {
    const typeError = checkType(type.value.trim());
    fieldError(type, typeError);
    const sourceError = source.value.trim() === '' ? 'The source is required (who sent this event).' : null;
    fieldError(source, sourceError);
    const checked = checkPayload(payload.value);
    fieldError(payload, checked.ok ? null : checked.error);
    return typeError || sourceError || !checked.ok ? null : checked.value;
  }

  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const validateSoon = () => {
    clearTimeout(timer);
    timer = setTimeout(validate, 250);
  };

  const form = h(
    'form',
    {
      class: 'card',
      'aria-labelledby': 'send-title',
      novalidate: true,
      oninput: validateSoon,
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault();
        clearTimeout(timer);
        const value = validate();
        if (value === null) {
          /** @type {HTMLElement | null} */ (form.querySelector('[aria-invalid="true"]'))?.focus();
          return;
        }
        send.setAttribute('disabled', '');
        try {
          const created = await api.post('/events', { type: type.value.trim(), source: source.value.trim(), payload: value });
          replace(
            result,
            h(
              'p',
              null,
              'Sent: ',
              h('a', { href: `#/events/${encodeURIComponent(created.id)}` }, created.id),
              ` (${created.type}), status ${created.status}.`,
            ),
          );
          toast(`Event ${created.id} sent`);
        } catch (error) {
          replace(result, h('p', { class: 'error-text', role: 'alert' }, `Not sent: ${message(error)}`));
        } finally {
          send.removeAttribute('disabled');
        }
      },
    },
    h('h2', { id: 'send-title' }, 'New event'),
    h('div', { class: 'row' }, field('Type', type, 'e.g. order.created'), field('Source', source, 'Who sent it')),
    field('Payload (JSON object)', payload, 'Checked as you type; nothing is sent while it is not a valid JSON object.'),
    h(
      'div',
      { class: 'actions' },
      send,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            const checked = checkPayload(payload.value);
            if (checked.ok) payload.value = JSON.stringify(checked.value, null, 2);
            validate();
          },
        },
        'Format JSON',
      ),
    ),
    result,
  );
  main.append(h('div', { class: 'spread' }, h('h1', null, 'Send a test event'), h('a', { href: '#/events' }, 'Events')), form);
  return () => clearTimeout(timer);
}
