/**
 * Two Linux network namespaces joined by a veth pair, made and removed by the test itself (root only):
 * `a` holds 10.213.N.1 and `b` 10.213.N.2 (N per pair), each with its loopback up. The cluster's
 * processes run inside them (`ip netns exec`), so every packet stays between addresses the test
 * assigned. `partition()` makes the link drop every packet silently (a pfifo queue of length 0 on both
 * ends: no RST, no unreachable, as a dead switch; netem needs a kernel module this host may lack),
 * `heal()` lifts it.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export const canUseNetns = process.getuid?.() === 0 && hasIp();

function hasIp(): boolean {
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { stdio: 'pipe', encoding: 'utf8' });
}

export class NetnsPair {
  readonly a: string;
  readonly b: string;
  readonly ipA: string;
  readonly ipB: string;
  private readonly vethA: string;
  private readonly vethB: string;
  private partitioned = false;

  private constructor(id: string, subnet: number) {
    this.a = `rtA-${id}`;
    this.b = `rtB-${id}`;
    this.vethA = `rva${id}`;
    this.vethB = `rvb${id}`;
    this.ipA = `10.213.${subnet}.1`;
    this.ipB = `10.213.${subnet}.2`;
  }

  static create(): NetnsPair {
    const id = randomBytes(3).toString('hex');
    const pair = new NetnsPair(id, 1 + (parseInt(id, 16) % 250));
    try {
      ip(['netns', 'add', pair.a]);
      ip(['netns', 'add', pair.b]);
      ip(['link', 'add', pair.vethA, 'type', 'veth', 'peer', 'name', pair.vethB]);
      ip(['link', 'set', pair.vethA, 'netns', pair.a]);
      ip(['link', 'set', pair.vethB, 'netns', pair.b]);
      for (const [ns, dev, addr] of [[pair.a, pair.vethA, pair.ipA], [pair.b, pair.vethB, pair.ipB]] as const) {
        ip(['-n', ns, 'link', 'set', 'lo', 'up']);
        ip(['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
        ip(['-n', ns, 'link', 'set', dev, 'up']);
      }
      // Nothing is sent before both ends hold the addresses the test gave them.
      for (const [ns, addr] of [[pair.a, pair.ipA], [pair.b, pair.ipB]] as const) {
        if (!ip(['-n', ns, '-4', 'addr', 'show']).includes(`inet ${addr}/24`)) throw new Error(`namespace ${ns} does not hold ${addr}`);
      }
    } catch (err) {
      pair.destroy();
      throw err;
    }
    return pair;
  }

  /** Every packet on the link is dropped, both ways, from now on. */
  partition(): void {
    for (const [ns, dev] of [[this.a, this.vethA], [this.b, this.vethB]] as const) {
      ip(['-n', ns, 'link', 'show', dev]); // the namespace and its end exist: never shape another host's link
      execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'add', 'dev', dev, 'root', 'pfifo', 'limit', '0'], { stdio: 'pipe' });
    }
    this.partitioned = true;
  }

  /**
   * Whether `b` answers `a` at all: a TCP connect to a port nobody listens on gets a refusal within a
   * second when the link works, nothing when it is cut.
   */
  reachable(): boolean {
    const probe = `const s=require('net').connect(9,'${this.ipB}');s.on('error',e=>process.exit(e.code==='ECONNREFUSED'?0:2));s.on('connect',()=>process.exit(0));setTimeout(()=>process.exit(1),1000)`;
    try {
      execFileSync('ip', ['netns', 'exec', this.a, process.execPath, '-e', probe], { stdio: 'pipe' });
      return true;
    } catch {
      return false;
    }
  }

  heal(): void {
    if (!this.partitioned) return;
    for (const [ns, dev] of [[this.a, this.vethA], [this.b, this.vethB]] as const) {
      execFileSync('ip', ['netns', 'exec', ns, 'tc', 'qdisc', 'del', 'dev', dev, 'root'], { stdio: 'pipe' });
    }
    this.partitioned = false;
  }

  /** Removes both namespaces (and the link with them); the processes inside must be gone first. */
  destroy(): void {
    for (const ns of [this.a, this.b]) {
      try { ip(['netns', 'del', ns]); } catch { /* not made, or gone */ }
    }
  }
}
