/**
 * What `rayts start` prints when a node is up: the next-steps block of a head (how to join, connect,
 * submit, see and stop), as Ray prints it, and the lines both kinds of node share.
 */
import { resolve } from 'node:path';
import { RAYTS_VERSION, formatAddress, tlsFromEnv, type Config, type HeadReady, type RayletReady } from '@rayts/common';
import { colors } from '../output.js';

/** Where Prometheus scrapes this node's raylet. */
export function metricsLine(raylet: RayletReady): string {
  const scheme = tlsFromEnv() ? 'https' : 'http';
  return `  Prometheus metrics of this node: ${scheme}://${formatAddress(raylet.nodeIp, raylet.metricsExportPort)}/metrics`;
}

export function tempDirHint(tempDir: string, config: Config): string {
  return resolve(tempDir) === resolve(config.tmpDir) ? '' : ` --temp-dir=${tempDir}`;
}

export function printHeadNextSteps(nodeIp: string, head: HeadReady, tokenFile: string, tempDir: string, config: Config, restarted: boolean, raylet?: RayletReady): void {
  const c = colors();
  const address = head.address;
  const hint = tempDirHint(tempDir, config);
  const title = restarted ? 'Rayts head restarted.' : 'Rayts runtime started.';
  const rule = '-'.repeat(title.length);
  const lines = [
    `Local node IP: ${c.bold(nodeIp)}`,
    '',
    rule,
    c.green(title),
    rule,
    '',
    'Next steps',
    '  To add another node to this cluster, copy the cluster token file to it',
    `  (${tokenFile}, mode 0600; \`rayts get-auth-token${hint}\` prints the token) and run:`,
    c.bold(`    rayts start --address='${address}' --token-file=/path/to/token`),
    '',
    '  To connect to this cluster from a TypeScript driver on this host:',
    c.bold(`    import * as ray from 'rayts';`),
    c.bold(`    await ray.init();`),
    ...(head.clientPort
      ? ['  To connect from another machine (a laptop, a notebook; it needs the token and this port open):',
        c.bold(`    await ray.init('rayts://${formatAddress(nodeIp, head.clientPort)}', { tokenFile: '/path/to/token' });`)]
      : ['  (a driver runs on a node of the cluster; from another machine, submit it as a job)']),
    '  Other users of this host find this cluster too; their drivers need the token, the owner\'s group',
    '  and RAYTS_OBJECT_STORE_SHARE_WITH_GROUP=1 on the node (docs/operations.md, "Letting other users run drivers on a node").',
    '',
    ...(head.dashboardUrl
      ? ['  To submit a job with the Jobs CLI (the token is read as for every command):',
        c.bold(`    RAYTS_API_SERVER_ADDRESS='${head.dashboardUrl}' rayts job submit --working-dir . -- node main.js`), '']
      : []),
    '  To see the cluster:',
    c.bold(`    rayts status${hint}`),
    '',
    '  To terminate the rayts processes on this host:',
    c.bold(`    rayts stop${hint}`),
    '',
    ...(head.dashboardUrl
      ? ['  To monitor and debug rayts, open the dashboard in a browser (log in with the token `rayts get-auth-token` prints) or use its HTTP API at',
        c.bold(`    ${head.dashboardUrl}`)]
      : ['  The dashboard is off (--include-dashboard=false): no HTTP API listens on this head.']),
  ];
  if (raylet) {
    lines.push('', `  Head: ${address}   local raylet: ${raylet.address} (node ${raylet.nodeId.slice(0, 12)}…)   version ${RAYTS_VERSION}`);
    // A raylet of an older release (kept by a head restart) did not say where its metrics are.
    if (raylet.metricsExportPort) lines.push(metricsLine(raylet));
  }
  process.stdout.write(lines.join('\n') + '\n');
}
