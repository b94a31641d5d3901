/** The state of installed rayts systemd units; skipped when none is installed or systemd does not run. */
import type { Check, Finding } from '../types.js';

export const systemdCheck: Check = {
  name: 'systemd',
  run({ systemd }): Finding[] {
    const base = { check: 'systemd unit', scope: 'this host' };
    if (systemd.units.length === 0) return [{ ...base, status: 'skip', finding: 'no rayts unit installed', fix: '' }];
    if (!systemd.running) {
      return [{ ...base, status: 'skip', finding: `${systemd.units.map((u) => u.name).join(', ')} installed, but systemd does not run here (not PID 1)`, fix: '' }];
    }
    return systemd.units.map((u) => u.activeState === 'active'
      ? { ...base, scope: u.name, status: 'ok', finding: 'active', fix: '' }
      : { ...base, scope: u.name, status: 'warn', finding: `${u.activeState ?? 'unknown'} (installed at ${u.path})`,
        fix: `start it with \`systemctl enable --now ${u.name}\`, or see why it stopped: \`journalctl -u ${u.name}\`` });
  },
};
