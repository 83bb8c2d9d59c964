import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { resolveSecrets } from '../../src/config/secrets.js';
import { ConfigError } from '../../src/core/errors.js';

const fresh = () => mkdtempSync(join(tmpdir(), 'triggers-config-'));

describe('configuration', () => {
  it('has the documented defaults', () => {
    const cwd = fresh();
    const config = loadConfig({ env: {}, cwd });
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.port, 8080);
    assert.equal(config.database.kind, 'sqlite');
    assert.equal(config.database.kind === 'sqlite' && config.database.path, join(cwd, 'data', 'triggers.db'));
    assert.equal(config.maxEventsPerRun, 100);
    assert.equal(config.retrySchedule.length, 11);
    assert.equal(config.webhookUrl, null);
    assert.equal(config.allowPrivateTargets, false);
    assert.equal(config.bodyLimitBytes, 1024 * 1024);
  });

  it('treats empty variables as unset and reads .env beneath the environment', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, '.env'), 'TRIGGERS_PORT=9000\nTRIGGERS_MAX_EVENTS_PER_RUN=7\n');
    const config = loadConfig({ env: { TRIGGERS_PORT: '', TRIGGERS_MAX_EVENTS_PER_RUN: '9' }, cwd });
    assert.equal(config.port, 9000);
    assert.equal(config.maxEventsPerRun, 9);
  });

  it('reads the seed secrets JSON, with variables winning', () => {
    const cwd = fresh();
    writeFileSync(
      join(cwd, 'secrets.json'),
      JSON.stringify({
        zapier_api_key: 'seed-api-key',
        zapier_webhook_url: 'https://hooks.example.com/x',
        jwt_secret: 'seed-jwt-secret-0123456789',
      }),
    );
    const config = loadConfig({
      env: { TRIGGERS_SECRETS_FILE: 'secrets.json', TRIGGERS_JWT_SECRET: 'env-jwt-secret-0123456789' },
      cwd,
    });
    assert.equal(config.apiKey, 'seed-api-key');
    assert.equal(config.webhookUrl, 'https://hooks.example.com/x');
    assert.equal(config.jwtSecret, 'env-jwt-secret-0123456789');
  });

  it('a bad value from a file names the entry in that file, not only the variable', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'seed.json'), JSON.stringify({ webhook_secret: 'nope' }));
    const seed = join(cwd, 'seed.json');
    assert.throws(
      () => loadConfig({ env: { TRIGGERS_SECRETS_FILE: 'seed.json' }, cwd }),
      (error: Error) =>
        error instanceof ConfigError &&
        error.message.startsWith(`TRIGGERS_WEBHOOK_SECRET (webhook_secret in ${seed}, TRIGGERS_SECRETS_FILE): expected whsec_`),
    );
    writeFileSync(join(cwd, '.env'), 'TRIGGERS_PORT=abc\n');
    assert.throws(
      () => loadConfig({ env: {}, cwd }),
      (error: Error) => error instanceof ConfigError && error.message.startsWith(`TRIGGERS_PORT (in ${join(cwd, '.env')}): `),
    );
  });

  it('notes where each setting came from: the environment, .env, the seed secrets JSON', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, '.env'), 'TRIGGERS_PORT=9000\nTRIGGERS_JWT_SECRET=dotenv-jwt-secret-0123456789\n');
    writeFileSync(
      join(cwd, 'seed.json'),
      JSON.stringify({ zapier_api_key: 'seed-api-key', jwt_secret: 'seed-jwt-secret-0123456789' }),
    );
    const config = loadConfig({ env: { TRIGGERS_SECRETS_FILE: 'seed.json', TRIGGERS_PORT: '9001' }, cwd });
    assert.deepEqual(config.sources.TRIGGERS_PORT, { from: 'environment' });
    assert.deepEqual(config.sources.TRIGGERS_JWT_SECRET, { from: '.env', file: join(cwd, '.env') });
    assert.deepEqual(config.sources.TRIGGERS_API_KEY, {
      from: 'secrets',
      key: 'zapier_api_key',
      setting: 'TRIGGERS_SECRETS_FILE',
      file: join(cwd, 'seed.json'),
    });
    assert.equal(config.sources.TRIGGERS_HOST, undefined, 'a default has no source');
  });

  it('stops on invalid settings with a message naming the setting', () => {
    const cases: [Record<string, string>, string][] = [
      [{ TRIGGERS_PORT: 'eighty' }, 'TRIGGERS_PORT'],
      [{ TRIGGERS_PORT: '70000' }, 'TRIGGERS_PORT'],
      // Not a valid IPv4 address: the host is at fault, not the API URL derived from it.
      [{ TRIGGERS_HOST: '999.1.1.1' }, 'TRIGGERS_HOST'],
      [{ TRIGGERS_HOST: 'bad host' }, 'TRIGGERS_HOST'],
      [{ TRIGGERS_DATABASE_URL: 'mysql://x' }, 'TRIGGERS_DATABASE_URL'],
      [{ TRIGGERS_RETRY_SCHEDULE: '1s,often' }, 'TRIGGERS_RETRY_SCHEDULE'],
      [{ TRIGGERS_RETRY_SCHEDULE: 'abc' }, 'TRIGGERS_RETRY_SCHEDULE'],
      [{ TRIGGERS_RETRY_SCHEDULE: '1s,,2s' }, 'TRIGGERS_RETRY_SCHEDULE'],
      [{ TRIGGERS_RETRY_SCHEDULE: '1s,2s,' }, 'TRIGGERS_RETRY_SCHEDULE'],
      [{ TRIGGERS_WEBHOOK_URL: 'not a url' }, 'TRIGGERS_WEBHOOK_URL'],
      [{ TRIGGERS_WEBHOOK_SECRET: 'plain' }, 'TRIGGERS_WEBHOOK_SECRET'],
      [{ TRIGGERS_ALLOW_PRIVATE_TARGETS: 'maybe' }, 'TRIGGERS_ALLOW_PRIVATE_TARGETS'],
      [{ TRIGGERS_SECRETS_FILE: 'missing.json' }, 'TRIGGERS_SECRETS_FILE'],
      [{ TRIGGERS_ROLE: 'worker' }, 'TRIGGERS_ROLE'],
      [{ TRIGGERS_BODY_LIMIT: 'huge' }, 'TRIGGERS_BODY_LIMIT'],
    ];
    for (const [env, setting] of cases) {
      assert.throws(
        () => loadConfig({ env, cwd: fresh() }),
        (error: unknown) => error instanceof ConfigError && error.setting === setting,
        setting,
      );
    }
  });

  it('says which retry schedule entry is empty', () => {
    assert.throws(
      () => loadConfig({ env: { TRIGGERS_RETRY_SCHEDULE: '1s,,2s' }, cwd: fresh() }),
      (error: unknown) =>
        error instanceof ConfigError && error.message.startsWith('TRIGGERS_RETRY_SCHEDULE: entry 2 is empty in "1s,,2s"'),
    );
    assert.deepEqual(
      loadConfig({ env: { TRIGGERS_RETRY_SCHEDULE: '1s, 2s ,4s' }, cwd: fresh() }).retrySchedule,
      [1000, 2000, 4000],
    );
  });

  it('generates secrets on first start, saves them privately, and reads them back', () => {
    const cwd = fresh();
    const first = resolveSecrets(loadConfig({ env: {}, cwd }));
    assert.deepEqual(first.generated.sort(), ['api_key', 'jwt_secret', 'webhook_secret']);
    assert.match(first.config.webhookSecret, /^whsec_/);
    assert.equal(statSync(first.file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(first.file, 'utf8')) as Record<string, string>;
    assert.equal(saved.zapier_api_key, first.config.apiKey);
    const second = resolveSecrets(loadConfig({ env: {}, cwd }));
    assert.deepEqual(second.generated, []);
    assert.equal(second.config.apiKey, first.config.apiKey);
    assert.equal(second.config.jwtSecret, first.config.jwtSecret);
  });

  it('a data directory where secrets cannot be saved is a configuration error naming TRIGGERS_DATA_DIR', () => {
    const cwd = fresh();
    writeFileSync(join(cwd, 'file'), '');
    assert.throws(
      () => resolveSecrets(loadConfig({ env: { TRIGGERS_DATA_DIR: 'file/data' }, cwd })),
      (error: unknown) =>
        error instanceof ConfigError && error.setting === 'TRIGGERS_DATA_DIR' && /cannot save the generated/.test(error.message),
    );
  });
});
