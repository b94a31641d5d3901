/** The head's GCS port and every alive raylet's port accept TCP connections from this host. */
import type { Check, Finding } from '../types.js';

export const portsCheck: Check = {
  name: 'ports',
  run({ probes, nodes }): Finding[] {
    return probes.map((p) => {
      const node = nodes.find((n) => n.nodeIp === p.host && n.rayletPort === p.port);
      const what = p.role === 'head' ? 'head (GCS) port' : 'raylet port';
      const scope = p.role === 'head' ? 'head' : `node ${p.host}${node?.isHead ? ' (head)' : ''}`;
      return p.open
        ? { check: what, scope, status: 'ok', finding: `${p.host}:${p.port} accepts connections`, fix: '' }
        : { check: what, scope, status: 'fail', finding: `${p.host}:${p.port} is not reachable from this host (${p.error ?? 'closed'})`,
          fix: `allow TCP to ${p.host}:${p.port} from every node in the firewall (iptables, nftables, ufw or the cloud security group)${p.role === 'raylet' ? '; pin the port with `rayts start --node-manager-port`' : ''}` };
    });
  },
};
