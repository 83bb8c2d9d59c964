/**
 * Ordinary failures, as a user meets them on the command line: one line on stderr that names the
 * setting and what failed, exit code 1, and no stack trace unless TRIGGERS_LOG_LEVEL=debug.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { configFromFlags } from '../../src/cli/commands.js';
import { ConfigError } from '../../src/core/errors.js';
import { API_KEY, startApi, type TestApi } from '../client/api.js';
import { freePort, freshDir, runCli } from '../support/process.js';

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const started = runCli(args, freshDir(), env);
  const code = await started.exited;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}

/** The one line a failure prints (JSON log lines aside), checked to be alone and traceless. */
function oneLine(stderr: string): string {
  assert.doesNotMatch(stderr, /^\s+at /m, `no stack trace:\n${stderr}`);
  const lines = stderr.split('\n').filter((line) => line !== '' && !line.startsWith('{'));
  assert.equal(lines.length, 1, `one line:\n${stderr}`);
  return lines[0] as string;
}

describe('triggers send failures', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(async () => {
    await api.close();
  });

  const send = (args: string[], key = API_KEY) => run(['send', '--api', api.url, ...args], { TRIGGERS_API_KEY: key });

  it('an event the API refuses: its error code and message', async () => {
    const [payload, type] = await Promise.all([send(['--type', 'x.y', '--payload', '[1]']), send(['--type', 'not a type'])]);
    assert.equal(payload.code, 1);
    assert.match(oneLine(payload.stderr), /^triggers: the API answered 400 invalid_request: .*payload/);
    assert.equal(type.code, 1);
    assert.match(oneLine(type.stderr), /^triggers: the API answered 400 invalid_request: .*type/);
  });

  it('a wrong API key, or no API at --api', async () => {
    const [wrong, unreachable] = await Promise.all([
      send(['--type', 'x.y'], 'a-wrong-api-key-123'),
      run(['send', '--type', 'x.y', '--api', 'http://127.0.0.1:1'], { TRIGGERS_API_KEY: API_KEY }),
    ]);
    assert.equal(wrong.code, 1);
    assert.match(
      oneLine(wrong.stderr),
      /^triggers: the API at http:\/\/127\.0\.0\.1:\d+ refused the API key \(invalid_credentials: Wrong API key\); check TRIGGERS_API_KEY$/,
    );
    assert.equal(unreachable.code, 1);
    assert.equal(oneLine(unreachable.stderr), 'triggers: cannot reach the API at http://127.0.0.1:1: ECONNREFUSED');
  });

  it('no API key anywhere: says where it looked, exit code 2', async () => {
    const { code, stderr } = await run(['send', '--type', 'x.y', '--api', api.url]);
    assert.equal(code, 2);
    assert.match(
      oneLine(stderr),
      /^triggers: invalid configuration: TRIGGERS_API_KEY: not set, and none saved in .*secrets\.json/,
    );
  });

  it('still prints the event it sent when all is well', async () => {
    const ok = await send(['--type', 'x.y', '--payload', '{"n":1}']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { type: string }).type, 'x.y');
  });
});

describe('start-up failures', () => {
  it('a host that does not resolve names TRIGGERS_HOST', async () => {
    const { code, stderr } = await run(['serve'], { TRIGGERS_HOST: 'not..a..host', TRIGGERS_PORT: String(await freePort()) });
    assert.equal(code, 1);
    assert.match(
      oneLine(stderr),
      /^triggers: TRIGGERS_HOST: cannot listen on not\.\.a\.\.host:\d+: no such host \(getaddrinfo ENOTFOUND/,
    );
  });

  it('a port in use names --port when that is how it was given', async () => {
    const busy: Server = createServer();
    const port = await new Promise<number>((resolve) =>
      busy.listen(0, '127.0.0.1', () => resolve((busy.address() as { port: number }).port)),
    );
    try {
      const { code, stderr } = await run(['serve', '--port', String(port)]);
      assert.equal(code, 1);
      assert.equal(
        oneLine(stderr),
        `triggers: --port (TRIGGERS_PORT): cannot listen on 127.0.0.1:${port}: the port is in use (is another Triggers running?)`,
      );
    } finally {
      busy.close();
    }
  });

  it('a SQLite file that cannot be opened names TRIGGERS_DATABASE_URL', async () => {
    const { code, stderr } = await run(['serve'], {
      TRIGGERS_DATABASE_URL: 'sqlite:/proc/x.db',
      TRIGGERS_PORT: String(await freePort()),
    });
    assert.equal(code, 1);
    assert.match(
      oneLine(stderr),
      /^triggers: TRIGGERS_DATABASE_URL: cannot open the database sqlite:\/proc\/x\.db: .*SQLITE_CANTOPEN/,
    );
  });

  it('PostgreSQL unavailable: migrate names TRIGGERS_DATABASE_URL and hides the password', async () => {
    const url = `postgres://user:hunter2@127.0.0.1:${await freePort()}/x`;
    const { code, stderr } = await run(['migrate'], { TRIGGERS_DATABASE_URL: url });
    assert.equal(code, 1);
    const line = oneLine(stderr);
    assert.match(
      line,
      /^triggers: TRIGGERS_DATABASE_URL: cannot migrate the database postgres:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/x: PostgreSQL is unavailable/,
    );
    assert.doesNotMatch(line, /hunter2/);
  });

  it('TRIGGERS_LOG_LEVEL=debug adds the stack trace', async () => {
    const { code, stderr } = await run(['migrate'], { TRIGGERS_DATABASE_URL: 'sqlite:/proc/x.db', TRIGGERS_LOG_LEVEL: 'debug' });
    assert.equal(code, 1);
    assert.match(stderr, /^triggers: TRIGGERS_DATABASE_URL: cannot migrate the database/);
    assert.match(stderr, /^\s+at /m);
  });
});

describe('configuration errors name the setting as the user gave it', () => {
  it('a flag by its name, then the variable it stands for; exit code 2', async () => {
    const [port, role, host] = await Promise.all([
      run(['serve', '--port', 'abc']),
      run(['serve', '--role', 'bogus']),
      run(['serve'], { TRIGGERS_HOST: '999.1.1.1' }),
    ]);
    assert.equal(port.code, 2);
    assert.equal(
      oneLine(port.stderr),
      'triggers: invalid configuration: --port (TRIGGERS_PORT): expected a whole number, got "abc"',
    );
    assert.equal(role.code, 2);
    assert.equal(
      oneLine(role.stderr),
      'triggers: invalid configuration: --role (TRIGGERS_ROLE): expected api, dispatcher or all, got "bogus"',
    );
    assert.equal(host.code, 2);
    assert.equal(oneLine(host.stderr), 'triggers: invalid configuration: TRIGGERS_HOST: not a host name or address: "999.1.1.1"');
  });

  it('an argument a command does not take: named, exit code 2, nothing started', async () => {
    const [serve, migrate] = await Promise.all([run(['serve', 'extra', '--port', '1']), run(['migrate', 'now'])]);
    assert.equal(serve.code, 2);
    assert.equal(
      oneLine(serve.stderr),
      'triggers: invalid configuration: command line: unexpected argument "extra": this command takes only flags (see --help)',
    );
    assert.equal(migrate.code, 2);
    assert.match(oneLine(migrate.stderr), /unexpected argument "now"/);
  });

  it('every flag that stands for a variable', () => {
    const cases: [Record<string, string>, string][] = [
      [{ host: '999.1.1.1' }, '--host (TRIGGERS_HOST)'],
      [{ database: 'mysql://x' }, '--database (TRIGGERS_DATABASE_URL)'],
      [{ api: 'not a url' }, '--api (TRIGGERS_API_URL)'],
      [{ port: '70000' }, '--port (TRIGGERS_PORT)'],
    ];
    for (const [values, setting] of cases) {
      assert.throws(
        () => configFromFlags(values),
        (error: unknown) => error instanceof ConfigError && error.setting === setting && error.message.startsWith(`${setting}: `),
        setting,
      );
    }
  });
});
