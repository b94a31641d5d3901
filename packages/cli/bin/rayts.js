#!/usr/bin/env node
// Launcher linked into node_modules/.bin by npm (workspace bin), so `npx rayts` works in a checkout.
import '../dist/main.js';
