/** `rayts status`: the cluster as the head sees it. Exit 3 when no cluster answers. */
import { GcsClient, TaskEventClient, type Config } from '@rayts/common';
import { resolveTarget, type TargetOptions } from '../discovery.js';
import { buildStatusView, renderStatus, statusJson } from '../status_format.js';
import { printJson } from '../output.js';
import { OOM_SCAN_LIMIT, oomKillsOf, type OomKillRow } from '../oom_kills.js';

export interface StatusOptions extends TargetOptions {
  json?: boolean;
  verbose?: boolean;
}

export async function statusCommand(options: StatusOptions, config: Config): Promise<number> {
  const target = resolveTarget(options, config);
  const clientOptions = { token: target.token, tls: target.tls, timeoutMs: config.gcsRpcTimeoutMs };
  const client = new GcsClient(target.address, clientOptions);
  const events = new TaskEventClient(target.address, clientOptions);
  try {
    const status = await client.getClusterStatus();
    // The kills are extra: a head that cannot list its task events still shows the rest.
    const oomKills = await events.getTaskEvents({ limit: OOM_SCAN_LIMIT }).then((r) => oomKillsOf(r.attempts, config.statusRecentFailures), (): OomKillRow[] => []);
    const view = buildStatusView(status, new Date(), oomKills);
    if (options.json) printJson(statusJson(view));
    else process.stdout.write(renderStatus(view, !!options.verbose));
    return 0;
  } finally {
    client.close();
    events.close();
  }
}
