/**
 * The console's files, served from memory: the page shell, its ES modules and CSS (from
 * `src/console/public/`, read at start), and uPlot from node_modules. No bundler and no build
 * step: the browser loads plain modules. Each file is compressed once (brotli or gzip, whichever
 * the browser accepts) and revalidated by ETag, so a reload costs a few 304s.
 *
 * `npm run build` (tsc) does not copy non-TS files to dist/, so the folder is looked up next to
 * this module first (running from src/ through tsx) and then in the package's src/ (running
 * from dist/).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json; charset=utf-8',
};

export interface Asset {
  type: string;
  etag: string;
  raw: Buffer;
  br?: Buffer;
  gzip?: Buffer;
}

/**
 * Where the console's public files are: next to this module's folder (src/console/public when
 * running from src/), else `src/console/public` in the nearest folder above that has one (the
 * package root, when running from dist/).
 */
export function publicDir(from: string = fileURLToPath(new URL('.', import.meta.url))): string {
  const beside = join(from, '..', 'public');
  if (existsSync(join(beside, 'index.html'))) return beside;
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'console', 'public');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`console files not found: no public/ beside ${from} and no src/console/public above it`);
}

function uplotDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('uplot'));
}

function asset(raw: Buffer, file: string): Asset {
  const etag = `"${createHash('sha256').update(raw).digest('base64url').slice(0, 22)}"`;
  return { type: TYPES[extname(file)] ?? 'application/octet-stream', etag, raw };
}

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (TYPES[extname(name)]) out.push(path);
  }
  return out;
}

/** Every file by URL path: `/console/app.js`, `/console/vendor/uPlot.esm.js`, and `/` for the shell. */
export function loadAssets(): Map<string, Asset> {
  const dir = publicDir();
  const assets = new Map<string, Asset>();
  for (const file of walk(dir)) {
    const url = `/console/${relative(dir, file).split(sep).join('/')}`;
    assets.set(url, asset(readFileSync(file), file));
  }
  const shell = assets.get('/console/index.html');
  if (shell) assets.set('/', shell);
  const vendor = uplotDir();
  for (const name of ['uPlot.esm.js', 'uPlot.min.css']) {
    assets.set(`/console/vendor/${name}`, asset(readFileSync(join(vendor, name)), name));
  }
  return assets;
}

/** The body to send for an Accept-Encoding header, compressing (once) on first use. */
export function encode(item: Asset, acceptEncoding: string | undefined): { body: Buffer; encoding: string | null } {
  const accepts = acceptEncoding ?? '';
  if (item.raw.length < 512) return { body: item.raw, encoding: null };
  if (/\bbr\b/.test(accepts)) {
    item.br ??= brotliCompressSync(item.raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 10 } });
    return { body: item.br, encoding: 'br' };
  }
  if (/\bgzip\b/.test(accepts)) {
    item.gzip ??= gzipSync(item.raw, { level: 9 });
    return { body: item.gzip, encoding: 'gzip' };
  }
  return { body: item.raw, encoding: null };
}
