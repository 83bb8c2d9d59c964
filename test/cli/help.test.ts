/** `triggers <command> --help`, `-h` and `triggers help <command>`, as a user runs them. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { wantsHelp } from '../../src/cli/commands.js';
import { freshDir, runCli } from '../support/process.js';

async function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const started = runCli(args, freshDir());
  const code = await started.exited;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}

/** What each command's help must mention: its usage line, a flag, and a variable it reads. */
const EXPECTED: Record<string, RegExp[]> = {
  serve: [/^Usage: triggers serve/, /--port N/, /--role ROLE/, /TRIGGERS_PORT/, /TRIGGERS_DATABASE_URL/],
  dispatch: [/^Usage: triggers dispatch/, /--once/, /--api URL/, /TRIGGERS_API_KEY/, /TRIGGERS_MAX_EVENTS_PER_RUN/],
  send: [/^Usage: triggers send/, /--type T/, /--payload JSON/, /TRIGGERS_API_URL/, /TRIGGERS_API_KEY/],
  migrate: [/^Usage: triggers migrate/, /--database URL/, /TRIGGERS_DATABASE_URL/],
  keys: [/triggers keys create/, /triggers keys revoke/, /--scopes/, /TRIGGERS_DATABASE_URL/],
  receive: [/^Usage: triggers receive/, /--secret S/, /TRIGGERS_RECEIVER_SECRET/],
};

describe('command help', () => {
  for (const [command, patterns] of Object.entries(EXPECTED)) {
    it(`triggers ${command} --help prints its usage on stdout and exits 0`, async () => {
      const { code, stdout, stderr } = await run([command, '--help']);
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
      for (const pattern of patterns) assert.match(stdout, pattern);
    });
  }

  it('-h works too, even after other flags', async () => {
    const { code, stdout, stderr } = await run(['serve', '--port', '1', '-h']);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^Usage: triggers serve/);
  });

  it('triggers help <command> prints the same help; an unknown command is an error', async () => {
    const [viaHelp, viaFlag] = await Promise.all([run(['help', 'send']), run(['send', '--help'])]);
    assert.equal(viaHelp.code, 0);
    assert.equal(viaHelp.stdout, viaFlag.stdout);
    const unknown = await run(['help', 'frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it('triggers --help lists the commands and says how to get one command’s help', async () => {
    const { code, stdout } = await run(['--help']);
    assert.equal(code, 0);
    for (const command of Object.keys(EXPECTED)) assert.match(stdout, new RegExp(`^  ${command} `, 'm'));
    assert.match(stdout, /triggers help <command>/);
  });

  it('a --help after -- is an argument, not a request for help', () => {
    assert.equal(wantsHelp(['--type', 'x', '--', '--help']), false);
    assert.equal(wantsHelp(['--type', 'x', '--help']), true);
  });
});
