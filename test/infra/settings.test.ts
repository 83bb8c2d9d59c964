/** The stack's options as CDK context: command-line strings and cdk.json values, checked. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contextFromArgs, DEFAULT_SETTINGS, readSettings, SettingsError } from '../../infra/settings.js';

const from = (context: Record<string, unknown>) => readSettings((key) => context[key]);

describe('stack settings', () => {
  it('defaults to the seed: rate(5 minutes), 100 events per run, no streams', () => {
    assert.deepEqual(from({}), DEFAULT_SETTINGS);
    assert.equal(DEFAULT_SETTINGS.schedule, 'rate(5 minutes)');
    assert.equal(DEFAULT_SETTINGS.maxEventsPerRun, 100);
    assert.equal(DEFAULT_SETTINGS.streams, false);
    assert.equal(DEFAULT_SETTINGS.runtime, 'nodejs22.x');
  });

  it('reads command-line strings', () => {
    const settings = from({
      stackName: 'Triggers-Staging',
      schedule: 'cron(0/2 * * * ? *)',
      streams: 'true',
      streamBatchSize: '25',
      maxEventsPerRun: '500',
      metricsNamespace: 'Acme/Triggers',
      corsOrigins: 'https://a.example, https://b.example',
      alarmEmail: 'ops@example.com',
      architecture: 'x86_64',
      runtime: 'nodejs24.x',
    });
    assert.deepEqual(settings, {
      stackName: 'Triggers-Staging',
      schedule: 'cron(0/2 * * * ? *)',
      streams: true,
      streamBatchSize: 25,
      maxEventsPerRun: 500,
      metricsNamespace: 'Acme/Triggers',
      corsOrigins: ['https://a.example', 'https://b.example'],
      alarmEmail: 'ops@example.com',
      architecture: 'x86_64',
      runtime: 'nodejs24.x',
    });
  });

  it('reads cdk.json values (booleans, numbers, lists); an empty string is unset', () => {
    const settings = from({ streams: true, streamBatchSize: 10, corsOrigins: ['https://a.example'], schedule: '' });
    assert.equal(settings.streams, true);
    assert.equal(settings.streamBatchSize, 10);
    assert.deepEqual(settings.corsOrigins, ['https://a.example']);
    assert.equal(settings.schedule, 'rate(5 minutes)');
  });

  for (const [key, value] of [
    ['schedule', 'every 5 minutes'],
    ['streams', 'yes'],
    ['streamBatchSize', '0'],
    ['streamBatchSize', '1.5'],
    ['maxEventsPerRun', 'many'],
    ['architecture', 'riscv'],
    ['runtime', 'nodejs18.x'],
    ['stackName', 'has space'],
  ] as const) {
    it(`refuses ${key}=${value}, naming the key`, () => {
      assert.throws(
        () => from({ [key]: value }),
        (error: unknown) => error instanceof SettingsError && error.message.includes(key),
      );
    });
  }

  it('takes -c key=value pairs as cdk does', () => {
    assert.deepEqual(contextFromArgs(['-c', 'streams=true', '--context', 'schedule=rate(1 minute)', '--context=a=b=c']), {
      streams: 'true',
      schedule: 'rate(1 minute)',
      a: 'b=c',
    });
    assert.throws(() => contextFromArgs(['--streams']), SettingsError);
    assert.throws(() => contextFromArgs(['-c', 'novalue']), SettingsError);
    assert.throws(() => contextFromArgs(['-c']), SettingsError);
  });
});
