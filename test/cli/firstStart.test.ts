/**
 * The first-start banner tells the truth about the API key: printed when this start generated
 * it, otherwise where it comes from (the environment, .env, the seed's secrets JSON, the file an
 * earlier start saved) — and then never printed.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { firstStartBanner } from '../../src/cli/firstStart.js';
import { type Env, loadConfig } from '../../src/config/config.js';
import { markKeyShown, resolveSecrets } from '../../src/config/secrets.js';
import { freshDir, type Server, startServe } from '../support/process.js';

const KEY = 'configured-api-key-0123456789';
const URL = 'http://127.0.0.1:8080';

/** What `serve` prints once it is listening, and then records that the key was shown. */
function banner(env: Env, cwd = freshDir()): { text: string; apiKey: string; file: string } {
  const { config, generated, unshownKey, file } = resolveSecrets(loadConfig({ env, cwd }));
  const text = firstStartBanner(URL, config, generated, file, unshownKey);
  if (unshownKey) markKeyShown(file);
  return { text, apiKey: config.apiKey, file };
}

describe('first-start banner', () => {
  const servers: Server[] = [];
  after(async () => {
    await Promise.all(servers.map((server) => server.kill()));
  });

  it('a generated key is printed, with where it is saved', () => {
    const { text, apiKey, file } = banner({});
    assert.match(text, new RegExp(`generated api_key, jwt_secret, webhook_secret and saved them in ${file}`));
    assert.ok(text.includes(`Your API key: ${apiKey}`));
    assert.ok(text.includes(`password=${apiKey}`));
    assert.ok(text.includes(`Console: ${URL}/`), 'where the console is');
  });

  it('a first start that failed before printing the key: the next start prints it, once', () => {
    const cwd = freshDir();
    // The failed start: secrets generated and saved, then the port was taken; nothing printed.
    const failed = resolveSecrets(loadConfig({ env: {}, cwd }));
    assert.equal(failed.unshownKey, true);
    const { text, apiKey } = banner({}, cwd);
    assert.equal(apiKey, failed.config.apiKey, 'the same key');
    assert.match(text, /generated an API key at an earlier start that did not get this far/);
    assert.ok(text.includes(`Your API key: ${apiKey}`), text);
    const later = resolveSecrets(loadConfig({ env: {}, cwd }));
    assert.equal(later.unshownKey, false, 'printed once');
    assert.deepEqual(later.generated, []);
    const saved = JSON.parse(readFileSync(failed.file, 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(saved).sort(), ['jwt_secret', 'webhook_secret', 'zapier_api_key']);
  });

  it('a damaged secrets.json is refused with a clear error naming the file', () => {
    for (const [content, words] of [
      ['null', /expected a JSON object/],
      ['{"zapier_api_key": 5}', /zapier_api_key must be a string/],
      ['{"zapier_api_key": "a"}', /at least 8 characters/],
      ['{"jwt_secret": "short"}', /at least 16 characters/],
      ['{"webhook_secret": "nope"}', /webhook_secret: expected whsec_/],
    ] as const) {
      const cwd = freshDir();
      const file = banner({}, cwd).file;
      writeFileSync(file, content);
      assert.throws(
        () => resolveSecrets(loadConfig({ env: {}, cwd })),
        (error: Error) => {
          assert.ok(error.message.includes(file), error.message);
          assert.match(error.message, words);
          return error.name === 'ConfigError';
        },
      );
    }
  });

  it('a key from the environment: says so and never prints it', () => {
    const { text, file } = banner({ TRIGGERS_API_KEY: KEY });
    assert.match(text, new RegExp(`generated jwt_secret, webhook_secret and saved them in ${file}`));
    assert.match(text, /Your API key is TRIGGERS_API_KEY, as set in the environment\./);
    assert.ok(!text.includes(KEY));
    assert.ok(!text.includes(`API key is in ${file}`));
    assert.ok(text.includes('password=$API_KEY'));
  });

  it('a key from the seed secrets JSON: names the file and the key, and how to read it', () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, 'seed.json'), JSON.stringify({ zapier_api_key: KEY }));
    const { text } = banner({ TRIGGERS_SECRETS_FILE: 'seed.json' }, cwd);
    const seed = join(cwd, 'seed.json');
    assert.ok(text.includes(`Your API key is the zapier_api_key in ${seed} (TRIGGERS_SECRETS_FILE).`), text);
    assert.ok(text.includes(`API_KEY=$(jq -r .zapier_api_key '${seed}')`));
    assert.ok(!text.includes(KEY));
  });

  it('a key an earlier start saved, when only another secret is generated now', () => {
    const cwd = freshDir();
    const first = banner({}, cwd);
    const saved = JSON.parse(readFileSync(first.file, 'utf8')) as Record<string, string>;
    delete saved.jwt_secret;
    writeFileSync(first.file, JSON.stringify(saved));
    const { text } = banner({}, cwd);
    assert.match(text, /generated jwt_secret and saved it in/);
    assert.ok(text.includes(`Your API key is the zapier_api_key saved in ${first.file}.`));
    assert.ok(!text.includes(first.apiKey));
  });

  it('triggers serve with TRIGGERS_API_KEY in .env says it comes from .env and does not print it', async () => {
    const cwd = freshDir();
    writeFileSync(join(cwd, '.env'), `TRIGGERS_API_KEY=${KEY}\n`);
    const server = await startServe(cwd);
    servers.push(server);
    for (let i = 0; i < 100 && !server.run.stdout().includes('API reference'); i++) await new Promise((r) => setTimeout(r, 20));
    const stdout = server.run.stdout();
    assert.ok(stdout.includes(`Your API key is TRIGGERS_API_KEY, as set in ${join(cwd, '.env')}.`), stdout);
    assert.ok(!stdout.includes(KEY), 'the key is not printed');
    assert.doesNotMatch(stdout, /API key is in/);
    const saved = JSON.parse(readFileSync(join(cwd, 'data', 'secrets.json'), 'utf8')) as Record<string, string>;
    assert.equal(saved.zapier_api_key, undefined, 'the configured key is not copied into secrets.json');
  });
});
