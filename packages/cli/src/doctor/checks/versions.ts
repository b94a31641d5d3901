/** Every node runs the same rayts and Node.js versions as each other and as this CLI. */
import type { Check, DoctorFacts, Finding } from '../types.js';

function spread(values: Map<string, string[]>): string {
  return [...values.entries()].map(([v, ips]) => `${v || 'unknown'} on ${ips.join(', ')}`).join('; ');
}

function byValue(facts: DoctorFacts, pick: (n: DoctorFacts['nodes'][number]) => string, local: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of facts.nodes) out.set(pick(n), [...(out.get(pick(n)) ?? []), n.nodeIp]);
  out.set(local, [...(out.get(local) ?? []), 'this CLI']);
  return out;
}

export const versionsCheck: Check = {
  name: 'versions',
  run(facts): Finding[] {
    const rayts = byValue(facts, (n) => n.version, facts.localVersion);
    const node = byValue(facts, (n) => n.nodeVersion, facts.localNodeVersion);
    const major = new Set([...node.keys()].map((v) => v.split('.')[0]));
    const findings: Finding[] = [];
    findings.push(rayts.size === 1
      ? { check: 'rayts version', scope: 'cluster', status: 'ok', finding: `rayts ${facts.localVersion} on every node`, fix: '' }
      : { check: 'rayts version', scope: 'cluster', status: 'fail', finding: `rayts versions differ: ${spread(rayts)}`,
        fix: 'install the same rayts version on every node (and this host), then restart the nodes with `rayts stop` / `rayts start`' });
    if (node.size === 1) {
      findings.push({ check: 'Node.js version', scope: 'cluster', status: 'ok', finding: `Node.js ${facts.localNodeVersion} on every node`, fix: '' });
    } else {
      findings.push({ check: 'Node.js version', scope: 'cluster', status: major.size > 1 || node.has('') ? 'fail' : 'warn',
        finding: `Node.js versions differ: ${spread(node)}`,
        fix: 'install the same Node.js version on every node (functions and objects are serialized by one node and run by another)' });
    }
    return findings;
  },
};
