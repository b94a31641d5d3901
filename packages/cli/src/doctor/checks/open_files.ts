/** `ulimit -n` of this shell (the daemons started from it inherit it): every worker and connection holds descriptors. */
import type { Check, Finding } from '../types.js';

const HARD_FLOOR = 1024;

export const openFilesCheck: Check = {
  name: 'open files',
  run({ openFiles, thresholds }): Finding[] {
    const base = { check: 'open files', scope: 'this host' };
    if (!openFiles) return [{ ...base, status: 'skip', finding: 'cannot read /proc/self/limits', fix: '' }];
    const text = `ulimit -n is ${openFiles.soft} (hard ${openFiles.hard})`;
    const fix = `raise it to ${thresholds.doctorMinOpenFiles} or more: \`ulimit -n ${thresholds.doctorMinOpenFiles}\` before \`rayts start\`, LimitNOFILE= in the systemd unit, or nofile in /etc/security/limits.conf`;
    if (openFiles.soft < HARD_FLOOR) return [{ ...base, status: 'fail', finding: `${text}: too few for workers and connections`, fix }];
    if (openFiles.soft < thresholds.doctorMinOpenFiles) return [{ ...base, status: 'warn', finding: `${text}, below ${thresholds.doctorMinOpenFiles}`, fix }];
    return [{ ...base, status: 'ok', finding: text, fix: '' }];
  },
};
