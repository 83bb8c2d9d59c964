/**
 * The console's server side over plain HTTP: the open page shell and files, the live feed's own
 * authentication (header, API key or ?access_token=), and the streamed export.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publicDir } from '../../src/console/server/static.js';
import { type ConsoleServer, startConsoleServer } from './server.js';

describe('console server routes', () => {
  let server: ConsoleServer;
  before(async () => {
    server = await startConsoleServer();
    await server.api('POST', '/events/batch', {
      events: [
        { type: 'order.created', source: '=cmd', payload: { note: 'a, "quoted"\nline' } },
        { type: 'user.signed_up', source: 'web', payload: { n: 2 } },
      ],
    });
  });
  after(() => server?.close());

  it('serves the page shell and its files without credentials, compressed and revalidated', async () => {
    const shell = await fetch(`${server.url}/`);
    assert.equal(shell.status, 200);
    assert.match(shell.headers.get('content-type') ?? '', /text\/html/);
    assert.match(shell.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    assert.match(await shell.text(), /<script type="module" src="\/console\/app.js">/);
    const uplot = await fetch(`${server.url}/console/vendor/uPlot.esm.js`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(uplot.status, 200);
    assert.match(uplot.headers.get('content-type') ?? '', /javascript/);
    const again = await fetch(`${server.url}/console/app.js`, {
      headers: { 'if-none-match': (await fetch(`${server.url}/console/app.js`)).headers.get('etag') ?? '' },
    });
    assert.equal(again.status, 304);
    assert.equal((await fetch(`${server.url}/console/nope.js`)).status, 404);
    assert.ok(publicDir().endsWith('public'));
  });

  it('the live feed needs credentials: a bearer token, the API key, or ?access_token=', async () => {
    assert.equal((await fetch(`${server.url}/console/stream`)).status, 401);
    assert.equal((await fetch(`${server.url}/console/stream?access_token=nope`)).status, 401);
    const { access_token } = await server.api<{ access_token: string }>('POST', '/token', { api_key: server.apiKey });
    const ways: { url: string; headers: Record<string, string> }[] = [
      { url: `${server.url}/console/stream`, headers: { authorization: `Bearer ${access_token}` } },
      { url: `${server.url}/console/stream?access_token=${access_token}`, headers: {} },
      { url: `${server.url}/console/stream`, headers: { 'x-api-key': server.apiKey } },
    ];
    for (const init of ways) {
      const controller = new AbortController();
      const res = await fetch(init.url, { headers: init.headers, signal: controller.signal });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let text = '';
      while (!text.includes('event: summary')) text += decoder.decode((await reader.read()).value, { stream: true });
      assert.match(text, /event: hello\ndata: \{"api_url":"http:\/\/127\.0\.0\.1:\d+"/);
      controller.abort();
    }
  });

  it('exports CSV and NDJSON, filtered, only with credentials', async () => {
    assert.equal((await fetch(`${server.url}/events/export`)).status, 401);
    const csv = await fetch(`${server.url}/events/export?format=csv&order=asc`, { headers: { 'x-api-key': server.apiKey } });
    assert.equal(csv.status, 200);
    assert.match(csv.headers.get('content-disposition') ?? '', /attachment; filename="events-.*\.csv"/);
    const lines = (await csv.text()).split('\r\n');
    assert.equal(lines[0], 'id,created_at,type,source,status,payload');
    // Quoted where needed; a leading = cannot run as a spreadsheet formula.
    assert.match(lines[1] ?? '', /^evt_\w+,[^,]+,order\.created,'=cmd,pending,"\{""note"":""a, \\""quoted\\""\\nline""\}"$/);
    const ndjson = await fetch(`${server.url}/events/export?format=ndjson&type=user.*`, {
      headers: { 'x-api-key': server.apiKey },
    });
    const rows = (await ndjson.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.deepEqual(
      rows.map((r) => [r.type, r.payload]),
      [['user.signed_up', { n: 2 }]],
    );
    assert.equal(
      (await fetch(`${server.url}/events/export?format=xml`, { headers: { 'x-api-key': server.apiKey } })).status,
      400,
    );
  });

  it('is described in the OpenAPI document', async () => {
    const doc = await (await fetch(`${server.url}/openapi.json`)).json();
    assert.ok(doc.paths['/events/export']?.get);
    assert.ok(doc.paths['/console/stream']?.get);
    assert.equal(doc.paths['/'], undefined);
  });
});
