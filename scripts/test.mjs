#!/usr/bin/env node
// Runs every *.test.ts under test/ and src/ with Node's test runner (TypeScript through tsx).
// Extra arguments are path filters: `npm test -- sqlite` runs the files whose path contains "sqlite".
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = ['test', 'src']
  .flatMap((dir) => walk(dir, []))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { stdio: 'inherit', env: { ...process.env, TRIGGERS_LOG_LEVEL: process.env.TRIGGERS_LOG_LEVEL ?? 'silent' } },
);
process.exit(result.status ?? 1);
