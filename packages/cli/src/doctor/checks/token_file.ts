/** Each local node's copy of the cluster token is mode 0600 and owned by the user running the daemons. */
import { nodeScope, type Check, type Finding } from '../types.js';

export const tokenFileCheck: Check = {
  name: 'token file',
  run({ localNodes }): Finding[] {
    return localNodes.map((n) => {
      const base = { check: 'token file', scope: nodeScope(n) };
      const t = n.token;
      if (!t) return { ...base, status: 'fail', finding: `no token file in ${n.sessionDir}`, fix: 'restart the node with `rayts stop` and `rayts start` (it writes the token file)' };
      const mode = t.mode.toString(8).padStart(4, '0');
      if ((t.mode & 0o077) !== 0) {
        return { ...base, status: 'fail', finding: `${t.path} has mode ${mode}: other users can read the cluster token`, fix: `chmod 600 ${t.path}` };
      }
      if (t.uid !== t.expectedUid) {
        return { ...base, status: 'fail', finding: `${t.path} is owned by uid ${t.uid}, not by the daemons' user (uid ${t.expectedUid})`, fix: `chown ${t.expectedUid} ${t.path}` };
      }
      return { ...base, status: 'ok', finding: `${t.path} is mode ${mode}, owned by uid ${t.uid}`, fix: '' };
    });
  },
};
