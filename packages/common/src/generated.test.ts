/**
 * Proto staleness check: the types committed under src/generated must be exactly what
 * scripts/gen-proto.mjs produces from proto/ now, and the run-time loader options must match the
 * generator's flags (otherwise the types describe objects the loader does not produce).
 */
import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_LOADER_OPTIONS } from '@rayts/common';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const GENERATOR = path.join(REPO_ROOT, 'scripts/gen-proto.mjs');
const COMMITTED = path.join(REPO_ROOT, 'packages/common/src/generated');

function filesUnder(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else out.push(path.relative(root, full));
    }
  };
  walk(root);
  return out.sort();
}

let tmp: string;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
});
afterEach(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('generated proto types', () => {
  it('match a fresh run of scripts/gen-proto.mjs (run `node scripts/gen-proto.mjs` after changing a .proto)', () => {
    expect(fs.existsSync(path.join(REPO_ROOT, 'proto/rayts/v1'))).toBe(true);
    const out = path.join(tmp, 'generated');
    execFileSync(process.execPath, [GENERATOR, out], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });

    const fresh = filesUnder(out);
    const committed = filesUnder(COMMITTED);
    expect(fresh.length).toBeGreaterThan(0);
    expect(fresh).toContain('gcs.ts');
    expect(fresh).toContain('raylet.ts');
    expect({
      missingFromGenerated: fresh.filter((rel) => !committed.includes(rel)),
      notProducedByGenerator: committed.filter((rel) => !fresh.includes(rel)),
    }).toEqual({ missingFromGenerated: [], notProducedByGenerator: [] });
    const stale = fresh.filter((rel) => fs.readFileSync(path.join(out, rel), 'utf8') !== fs.readFileSync(path.join(COMMITTED, rel), 'utf8'));
    expect(stale, 'generated files that differ from proto/').toEqual([]);
  });

  it('every .proto under proto/rayts/v1 is represented in the generated index files', () => {
    const protos = fs.readdirSync(path.join(REPO_ROOT, 'proto/rayts/v1')).filter((f) => f.endsWith('.proto'));
    expect(protos.length).toBeGreaterThan(0);
    for (const proto of protos) {
      expect(fs.existsSync(path.join(COMMITTED, proto.replace(/\.proto$/, '.ts'))), proto).toBe(true);
    }
  });
});

describe('PROTO_LOADER_OPTIONS', () => {
  it('has the values the generated types assume', () => {
    expect(PROTO_LOADER_OPTIONS.keepCase).toBe(false);
    expect(PROTO_LOADER_OPTIONS.longs).toBe(Number);
    expect(PROTO_LOADER_OPTIONS.enums).toBe(String);
    expect(PROTO_LOADER_OPTIONS.defaults).toBe(true);
    expect(PROTO_LOADER_OPTIONS.oneofs).toBe(true);
    // proto/ at the repository root is a link to the package's own copy (which a packed rayts carries).
    expect(PROTO_LOADER_OPTIONS.includeDirs?.map((d) => fs.realpathSync(d))).toEqual([fs.realpathSync(path.join(REPO_ROOT, 'proto'))]);
  });

  it('agrees with the flags scripts/gen-proto.mjs passes to the generator', () => {
    const script = fs.readFileSync(GENERATOR, 'utf8');
    expect(script).toContain("'--keepCase=false'");
    expect(script).toContain("'--longs=Number'");
    expect(script).toContain("'--enums=String'");
    expect(script).toContain("'--defaults'");
    expect(script).toContain("'--oneofs'");
    expect(script).not.toMatch(/--keepCase['=]\s*(true|')/);
  });
});
