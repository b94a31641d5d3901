#!/usr/bin/env node
// The `rayts` command: a tiny launcher for packages/cli (DESIGN §2).
import '../packages/cli/dist/main.js';
