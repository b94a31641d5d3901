#!/usr/bin/env node
// The `rayts` command: a tiny launcher for @rayts/cli (DESIGN §2), bundled with this package.
import '@rayts/cli/main';
