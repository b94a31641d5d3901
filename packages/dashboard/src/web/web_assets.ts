/**
 * The built web page (`packages/dashboard/web-dist/`, made by `web/build.mjs`): `index.html` and the
 * content-hashed files under `assets/`, each with its gzip copy. They are read once, at server
 * start, into memory (a few hundred KB). A missing build is not an error of the server: the page
 * route answers 503 saying how to build it, and the API keeps working.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface WebFile {
  body: Buffer;
  gzip?: Buffer;
  contentType: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

/** Where the build puts the page: `web-dist/` beside this package's `dist/`. */
export function defaultWebDistDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../web-dist');
}

export type WebAssetsState = 'READY' | 'NOT_BUILT';

export class WebAssets {
  readonly state: WebAssetsState;
  readonly index: WebFile | undefined;
  private readonly assets = new Map<string, WebFile>();

  constructor(readonly dir: string) {
    const indexPath = join(dir, 'index.html');
    if (!existsSync(indexPath)) {
      this.state = 'NOT_BUILT';
      this.index = undefined;
      return;
    }
    this.index = readWebFile(indexPath);
    const assetsDir = join(dir, 'assets');
    for (const name of existsSync(assetsDir) ? readdirSync(assetsDir) : []) {
      if (name.endsWith('.gz') || !(extname(name) in CONTENT_TYPES)) continue;
      this.assets.set(name, readWebFile(join(assetsDir, name)));
    }
    this.state = 'READY';
  }

  asset(name: string): WebFile | undefined {
    return this.assets.get(name);
  }

  names(): string[] {
    return [...this.assets.keys()];
  }
}

function readWebFile(path: string): WebFile {
  const gzPath = `${path}.gz`;
  return {
    body: readFileSync(path),
    gzip: existsSync(gzPath) ? readFileSync(gzPath) : undefined,
    contentType: CONTENT_TYPES[extname(path)] ?? 'application/octet-stream',
  };
}
