/**
 * What `serve` prints when it generated secrets: what it generated and where it saved them, where
 * the API key is, and a `curl` line to try. The key is printed only when this start generated it
 * (no one has it yet); one that came from configuration or an earlier start is never printed, only
 * where it is.
 */
import type { SettingSource } from '../config/config.js';
import type { ResolvedSecrets } from '../config/secrets.js';

type Generated = ResolvedSecrets['generated'];

/** Where the API key is, in words, and a shell line that sets API_KEY to it. */
function apiKeyWhereabouts(source: SettingSource | undefined, file: string): { where: string; shell: string } {
  const fromJson = (key: string, path: string) => `API_KEY=$(jq -r .${key} '${path}')`;
  switch (source?.from) {
    case undefined:
      // Not configured: resolveSecrets read it from the file an earlier start saved.
      return { where: `the zapier_api_key saved in ${file}`, shell: fromJson('zapier_api_key', file) };
    case 'environment':
      return { where: 'TRIGGERS_API_KEY, as set in the environment', shell: 'API_KEY=…   # your TRIGGERS_API_KEY' };
    case '.env':
      return { where: `TRIGGERS_API_KEY, as set in ${source.file}`, shell: 'API_KEY=…   # your TRIGGERS_API_KEY' };
    case 'command line':
      return { where: 'the one given on the command line', shell: 'API_KEY=…' };
    case 'secrets':
      return source.file === null
        ? { where: `the ${source.key} in the secret ${source.setting} names`, shell: `API_KEY=…   # its ${source.key}` }
        : { where: `the ${source.key} in ${source.file} (${source.setting})`, shell: fromJson(source.key, source.file) };
  }
}

export function firstStartBanner(
  url: string,
  config: { apiKey: string; sources: Readonly<Record<string, SettingSource>> },
  generated: Generated,
  file: string,
  /** The key was generated (now or by a start that failed before printing it) and never shown. */
  unshownKey = generated.includes('api_key'),
): string {
  const generatedKey = unshownKey;
  const key = generatedKey
    ? { line: `Your API key: ${config.apiKey}`, shell: null, password: config.apiKey }
    : (() => {
        const { where, shell } = apiKeyWhereabouts(config.sources.TRIGGERS_API_KEY, file);
        return { line: `Your API key is ${where}.`, shell, password: '$API_KEY' };
      })();
  const lines = [
    '',
    generated.length > 0
      ? `Triggers generated ${generated.join(', ')} and saved ${generated.length === 1 ? 'it' : 'them'} in ${file}.`
      : `Triggers generated an API key at an earlier start that did not get this far, and saved it in ${file}.`,
    key.line,
    '',
    'Try it:',
    ...(key.shell === null ? [] : [`  ${key.shell}`]),
    `  TOKEN=$(curl -s -X POST ${url}/token -d "username=api&password=${key.password}" | jq -r .access_token)`,
    `  curl -s -X POST ${url}/events -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
    `       -d '{"type":"test.event","source":"manual","payload":{"message":"hello"}}'`,
    `  curl -s ${url}/inbox -H "Authorization: Bearer $TOKEN"`,
    '',
    `Console: ${url}/ (sign in with the API key)`,
    `API reference: ${url}/docs`,
    '',
  ];
  return `${lines.join('\n')}\n`;
}
