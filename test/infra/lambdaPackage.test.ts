/**
 * The Lambda package: production dependencies as package-lock.json lists them (the real lockfile
 * and a small fixture repository), dist/ without declarations, the console's files, and a
 * package.json that makes dist/ ES modules.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lambdaCode, missingHandlers, packageLambda, productionPackages } from '../../infra/lambdaPackage.js';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'triggers-package-'));
  dirs.push(dir);
  return dir;
};
const write = (file: string, text: string) => {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
};

/** A repository with one production dependency (with a nested one), one dev dependency, and a build. */
function fixture(options: { built?: boolean } = {}): string {
  const root = tempDir();
  write(
    join(root, 'package.json'),
    JSON.stringify({ name: 'triggers', version: '9.9.9', type: 'module', license: 'Apache-2.0' }),
  );
  write(
    join(root, 'package-lock.json'),
    JSON.stringify({
      lockfileVersion: 3,
      packages: {
        '': { name: 'triggers' },
        'node_modules/prod': { version: '1.0.0' },
        'node_modules/prod/node_modules/nested': { version: '2.0.0' },
        'node_modules/@scope/lib': { version: '1.0.0' },
        'node_modules/devonly': { version: '1.0.0', dev: true },
        'node_modules/better-sqlite3': { version: '12.0.0' },
        'node_modules/absent-optional': { version: '1.0.0', optional: true },
      },
    }),
  );
  write(join(root, 'node_modules/prod/index.js'), 'module.exports = 1;');
  write(join(root, 'node_modules/prod/node_modules/nested/index.js'), 'module.exports = 2;');
  write(join(root, 'node_modules/@scope/lib/index.js'), 'module.exports = 3;');
  write(join(root, 'node_modules/devonly/index.js'), 'module.exports = 4;');
  write(join(root, 'node_modules/prod/index.d.ts'), 'export {};');
  write(join(root, 'node_modules/prod/README.md'), '# prod');
  write(join(root, 'node_modules/prod/LICENSE.md'), 'MIT');
  write(join(root, 'node_modules/.bin/prod'), '#!/bin/sh');
  for (const file of [
    'lib/index.js',
    'build/Release/better_sqlite3.node',
    'build/Release/obj/x.o',
    'deps/sqlite3.c',
    'src/db.cpp',
  ]) {
    write(join(root, 'node_modules/better-sqlite3', file), 'x');
  }
  write(join(root, 'src/console/public/index.html'), '<!doctype html>');
  if (options.built !== false) {
    write(join(root, 'dist/lambda/api.js'), 'export const handler = () => {};');
    write(join(root, 'dist/lambda/api.d.ts'), 'export {};');
    write(join(root, 'dist/lambda/api.js.map'), '{}');
    write(join(root, 'dist/lambda/dispatcher.js'), 'export const scheduledHandler = () => {};');
  }
  return root;
}

describe('the Lambda package', () => {
  it('takes the production tree of the real lockfile and leaves the dev tools out', () => {
    const lock = JSON.parse(readFileSync('package-lock.json', 'utf8'));
    const names = productionPackages(lock).map((p) => p.path.slice('node_modules/'.length));
    for (const name of [
      'fastify',
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/lib-dynamodb',
      '@fastify/aws-lambda',
      'jose',
      'pino',
      'undici',
    ]) {
      assert.ok(names.includes(name), name);
    }
    for (const name of ['aws-cdk-lib', 'constructs', 'typescript', 'tsx', '@biomejs/biome', 'dynalite', 'esbuild']) {
      assert.ok(!names.includes(name), name);
    }
  });

  it('copies dist (no declarations), the console, production modules (what runs) and a module package.json', () => {
    const root = fixture();
    const out = tempDir();
    packageLambda(root, out);
    assert.ok(existsSync(join(out, 'dist/lambda/api.js')));
    assert.ok(existsSync(join(out, 'dist/lambda/api.js.map')));
    assert.ok(existsSync(join(out, 'dist/lambda/dispatcher.js')));
    assert.ok(!existsSync(join(out, 'dist/lambda/api.d.ts')));
    assert.ok(existsSync(join(out, 'src/console/public/index.html')));
    assert.ok(existsSync(join(out, 'node_modules/prod/index.js')));
    assert.ok(existsSync(join(out, 'node_modules/prod/node_modules/nested/index.js')));
    assert.ok(existsSync(join(out, 'node_modules/@scope/lib/index.js')));
    assert.ok(!existsSync(join(out, 'node_modules/devonly')));
    assert.ok(!existsSync(join(out, 'node_modules/.bin')));
    assert.ok(existsSync(join(out, 'node_modules/prod/LICENSE.md')), 'licences stay');
    assert.ok(!existsSync(join(out, 'node_modules/prod/README.md')));
    assert.ok(!existsSync(join(out, 'node_modules/prod/index.d.ts')));
    assert.ok(existsSync(join(out, 'node_modules/better-sqlite3/lib/index.js')));
    assert.ok(existsSync(join(out, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node')));
    for (const gone of ['build/Release/obj', 'deps', 'src']) {
      assert.ok(!existsSync(join(out, 'node_modules/better-sqlite3', gone)), gone);
    }
    const pkg = JSON.parse(readFileSync(join(out, 'package.json'), 'utf8'));
    assert.equal(pkg.type, 'module');
    assert.equal(pkg.version, '9.9.9');
  });

  it('stops with the command to run when dist/ is not built or a dependency is missing', () => {
    const unbuilt = fixture({ built: false });
    assert.deepEqual(missingHandlers(unbuilt), ['dist/lambda/api.js', 'dist/lambda/dispatcher.js']);
    assert.throws(() => packageLambda(unbuilt, tempDir()), /npm run build/);
    assert.throws(() => lambdaCode(unbuilt), /npm run build/);
    const broken = fixture();
    rmSync(join(broken, 'node_modules/prod'), { recursive: true });
    assert.throws(() => packageLambda(broken, tempDir()), /node_modules\/prod is missing: run `npm ci`/);
  });
});
