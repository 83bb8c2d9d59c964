/**
 * The Lambda code: what `npm pack` would publish (dist/, the console's public files, a
 * package.json saying `"type": "module"`) plus the production dependencies, copied from the
 * local node_modules as package-lock.json lists them. Offline by construction: no registry, no
 * Docker, no bundler; `npm run build` must have written dist/ first.
 */
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The handler files the stack points at (src/lambda/, built). */
export const HANDLER_FILES = ['dist/lambda/api.js', 'dist/lambda/dispatcher.js'] as const;

/**
 * Files of production dependencies that nothing loads at run time: executables' links, type
 * declarations, read-mes and change logs (licences stay), and better-sqlite3's sources and
 * intermediate build files (its compiled module stays; the DynamoDB store never loads it). About
 * 45 of 100 MB.
 */
const NOT_AT_RUNTIME = [
  /[/\\]\.bin$/,
  /\.d\.[cm]?ts$/,
  /[/\\](README|CHANGELOG|HISTORY)(\.[a-z]+)?$/i,
  /[/\\]better-sqlite3[/\\](deps|src)$/,
  /[/\\]better-sqlite3[/\\]build[/\\](deps|Release[/\\](obj|obj\.target|\.deps|sqlite3\.a|test_extension\.node))$/,
];

interface LockEntry {
  dev?: boolean;
  optional?: boolean;
  link?: boolean;
}

interface Lockfile {
  packages: Record<string, LockEntry>;
}

/**
 * The top-level node_modules folders of the production tree (`npm ci --omit=dev`). A nested
 * node_modules is copied with its parent, so only top-level entries are listed.
 */
export function productionPackages(lock: Lockfile): { path: string; optional: boolean }[] {
  return Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev && !entry.link)
    .map(([path, entry]) => ({ path, optional: entry.optional === true }));
}

/** Names the handler files dist/ lacks; empty when the build is there. */
export function missingHandlers(root: string): string[] {
  return HANDLER_FILES.filter((file) => !existsSync(join(root, file)));
}

/** Writes the Lambda package for the repository at `root` into `out` (an empty folder). */
export function packageLambda(root: string, out: string): void {
  const missing = missingHandlers(root);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first`);

  const declarations = (source: string) => !/\.d\.ts(\.map)?$/.test(source);
  cpSync(join(root, 'dist'), join(out, 'dist'), { recursive: true, filter: declarations });
  const publicFiles = join(root, 'src', 'console', 'public');
  if (existsSync(publicFiles)) cpSync(publicFiles, join(out, 'src', 'console', 'public'), { recursive: true });

  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
  const { name, version, type, license, dependencies } = pkg;
  writeFileSync(
    join(out, 'package.json'),
    `${JSON.stringify({ name, version, type, license, private: true, dependencies }, null, 2)}\n`,
  );

  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const runtimeOnly = (source: string) => !NOT_AT_RUNTIME.some((pattern) => pattern.test(source));
  for (const { path, optional } of productionPackages(lock)) {
    const source = join(root, path);
    if (!existsSync(source)) {
      if (optional) continue;
      throw new Error(`${path} is missing: run \`npm ci\` first`);
    }
    mkdirSync(join(out, path, '..'), { recursive: true });
    cpSync(source, join(out, path), { recursive: true, dereference: true, filter: runtimeOnly });
  }
}

/**
 * The package as a CDK asset: CDK's local bundling calls packageLambda straight into the cloud
 * assembly, and the asset hash is that of the output. The Docker image is never used
 * (tryBundle always succeeds or throws), but the bundling options require one.
 */
export function lambdaCode(root: string): lambda.Code {
  const missing = missingHandlers(root);
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` before synth`);
  return lambda.Code.fromAsset(join(root, 'dist'), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20'),
      local: {
        tryBundle(outputDir: string): boolean {
          packageLambda(root, outputDir);
          return true;
        },
      },
    },
  });
}
