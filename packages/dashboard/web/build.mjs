#!/usr/bin/env node
/**
 * Builds the dashboard's web page into packages/dashboard/web-dist/: the TSX under web/src bundled
 * by esbuild (minified, content-hashed names under assets/), a small index.html that names them,
 * and a gzip copy of every file so the head can send `Content-Encoding: gzip`. Run by the root
 * `build`/`prepare` scripts (`npm run build:web`). No CDN, no outside font: everything is here.
 */
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', 'web-dist');
const assets = join(out, 'assets');
rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const result = await build({
  entryPoints: { app: join(here, 'src', 'main.tsx') },
  bundle: true, minify: true, format: 'esm', target: 'es2020', platform: 'browser',
  outdir: assets, entryNames: '[name]-[hash]', assetNames: '[name]-[hash]',
  jsx: 'automatic', jsxImportSource: 'preact', metafile: true, legalComments: 'none', logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((n) => n.endsWith('.js'));
const css = outputs.find((n) => n.endsWith('.css'));
if (!js || !css) throw new Error(`the web build made no ${js ? 'CSS' : 'JS'} bundle (outputs: ${outputs.join(', ')})`);

// The icon is a file, not a data: URL, so the page's CSP (default-src 'self') allows it.
const icon = readFileSync(join(here, 'src', 'favicon.svg'));
const { createHash } = await import('node:crypto');
const iconName = `favicon-${createHash('sha256').update(icon).digest('hex').slice(0, 8)}.svg`;
writeFileSync(join(assets, iconName), icon);

writeFileSync(join(out, 'index.html'), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rayts dashboard</title>
<link rel="icon" href="/assets/${iconName}" type="image/svg+xml">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body><div id="app"></div><noscript>The rayts dashboard needs JavaScript.</noscript></body>
</html>
`);

const sizes = [];
for (const file of [join(out, 'index.html'), ...readdirSync(assets).map((n) => join(assets, n))]) {
  const gz = gzipSync(readFileSync(file), { level: 9 });
  writeFileSync(`${file}.gz`, gz);
  sizes.push(`${basename(file)} ${gz.length} B gzip`);
}
console.log(`web page built in ${out}: ${sizes.join(', ')}`);
