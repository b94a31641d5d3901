#!/usr/bin/env node
// `npm pack` / `npm publish` of the checkout: refused, with what to run instead. A plain `npm pack`
// would bundle better-sqlite3 with its install script, which npm runs unconditionally at install
// and which needs network or a compiler; `npm run pack` (scripts/pack.mjs, which packs with
// --ignore-scripts and so never comes here) makes the package users can install anywhere.
console.error('rayts: build the installable package with `npm run pack` (it writes rayts-<version>.tgz); ' +
  'a plain `npm pack` would make one that needs a compiler or network to install (see docs/operations.md, "Install")');
process.exit(1);
