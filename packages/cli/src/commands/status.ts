/** `rayts status`: the cluster as the head sees it. Exit 3 when no cluster answers. */
import { GcsClient, type Config } from '@rayts/common';
import { resolveTarget, type TargetOptions } from '../discovery.js';
import { buildStatusView, renderStatus, statusJson } from '../status_format.js';
import { printJson } from '../output.js';

export interface StatusOptions extends TargetOptions {
  json?: boolean;
  verbose?: boolean;
}

export async function statusCommand(options: StatusOptions, config: Config): Promise<number> {
  const target = resolveTarget(options, config);
  const client = new GcsClient(target.address, { token: target.token, tls: target.tls, timeoutMs: config.gcsRpcTimeoutMs });
  try {
    const view = buildStatusView(await client.getClusterStatus());
    if (options.json) printJson(statusJson(view));
    else process.stdout.write(renderStatus(view, !!options.verbose));
    return 0;
  } finally {
    client.close();
  }
}
