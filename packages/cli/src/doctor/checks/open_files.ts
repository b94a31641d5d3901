/**
 * `ulimit -n` of each local raylet (its workers inherit it), or of this shell when no node of the
 * cluster runs here: every worker and connection holds descriptors.
 */
import { nodeScope, type Check, type DoctorThresholds, type Finding, type OpenFilesLimit } from '../types.js';

const HARD_FLOOR = 1024;

function judge(limit: OpenFilesLimit | undefined, whose: string, scope: string, t: DoctorThresholds): Finding {
  const base = { check: 'open files', scope };
  if (!limit) return { ...base, status: 'skip', finding: `cannot read the limits of ${whose}`, fix: '' };
  const text = `${whose}: ulimit -n is ${limit.soft} (hard ${limit.hard})`;
  const fix = `raise it to ${t.doctorMinOpenFiles} or more: \`ulimit -n ${t.doctorMinOpenFiles}\` before \`rayts start\`, LimitNOFILE= in the systemd unit, or nofile in /etc/security/limits.conf; then restart the node`;
  if (limit.soft < HARD_FLOOR) return { ...base, status: 'fail', finding: `${text}: too few for workers and connections`, fix };
  if (limit.soft < t.doctorMinOpenFiles) return { ...base, status: 'warn', finding: `${text}, below ${t.doctorMinOpenFiles}`, fix };
  return { ...base, status: 'ok', finding: text, fix: '' };
}

export const openFilesCheck: Check = {
  name: 'open files',
  run({ localNodes, openFiles, thresholds }): Finding[] {
    if (localNodes.length === 0) return [judge(openFiles, 'this shell', 'this host', thresholds)];
    return localNodes.map((n) => judge(n.openFiles, 'the raylet', nodeScope(n), thresholds));
  },
};
