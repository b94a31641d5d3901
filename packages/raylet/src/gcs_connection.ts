/**
 * The raylet's link to the head: registration, periodic resource reports, and the two ways it ends:
 * the head declares this node dead (exit), or the head stays unreachable past the reconnect timeout
 * (exit cleanly, taking the workers along). After an outage the raylet registers again with the same
 * node id and cluster id, so a restarted head finds its running nodes.
 */
import {
  AuthenticationError, ClusterUnreachableError, GcsClient, PROTOCOL_VERSION, RaytsError, VersionMismatchError,
  type Config, type JobDriverState, type Logger, type NodeInfo, type NodeResources__Output, type ResourceMap, type ResourceDemand,
} from '@rayts/common';

export interface GcsConnectionOptions {
  client: GcsClient;
  node: NodeInfo;
  config: Config;
  logger: Logger;
  /** Told to the head with every registration (the head lists it for Prometheus). */
  metricsExportPort: number;
  available: () => ResourceMap;
  /** The node's current total (placement-group bundles add their group resources to it). */
  total: () => ResourceMap;
  demands: () => ResourceDemand[];
  /** What runs here now; the head reconciles its tables with it when the node registers again. */
  live?: () => { liveActorIds: string[]; liveJobIds: string[] };
  /** Submitted jobs' drivers running here and those ended but not acknowledged, told with every registration. */
  jobDrivers?: () => JobDriverState[];
  /** Jobs whose runtime env this node holds, sent with each report... */
  envJobIds?: () => string[];
  /** ...and those of them the head says have finished (from the reply). */
  onFinishedJobs?: (jobIds: string[]) => void;
  /** Every alive node's resources, from each report's reply. */
  onClusterView?: (view: NodeResources__Output[]) => void;
  /** Called once when the raylet must exit; `code` 0 = clean. */
  onFatal: (reason: string, code: number) => void;
}

/** Errors after which retrying cannot help. */
function isFatal(err: unknown): boolean {
  return err instanceof AuthenticationError || err instanceof VersionMismatchError
    || (err instanceof RaytsError && !(err instanceof ClusterUnreachableError));
}

export class GcsConnection {
  clusterId = '';
  private lastContact = performance.now();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private needsRegistration = false;

  constructor(private readonly options: GcsConnectionOptions) {}

  private get protocolVersion(): number {
    return this.options.config.testingProtocolVersion || PROTOCOL_VERSION;
  }

  /** First registration; retries while the head is unreachable, up to the reconnect timeout. */
  async register(): Promise<void> {
    const { client, node, logger, config } = this.options;
    const deadline = performance.now() + config.gcsReconnectTimeoutS * 1000;
    for (;;) {
      try {
        const reply = await client.registerNode(this.registration());
        this.clusterId = reply.clusterId;
        this.lastContact = performance.now();
        this.needsRegistration = false;
        logger.info('registered with the head', { head: client.address, clusterId: reply.clusterId, nodeId: node.nodeId });
        return;
      } catch (err) {
        if (isFatal(err) || performance.now() > deadline) throw err;
        logger.warn('head not reachable yet, retrying registration', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, config.gcsRegisterRetryMs));
      }
    }
  }

  private registration() {
    const { node, metricsExportPort, live, jobDrivers } = this.options;
    return { node, protocolVersion: this.protocolVersion, clusterId: this.clusterId, metricsExportPort, ...live?.(), jobDrivers: jobDrivers?.() ?? [] };
  }

  startReporting(): void {
    const tick = async () => {
      if (this.stopped) return;
      await this.reportOnce();
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.options.config.reportResourcesPeriodMs);
    };
    this.timer = setTimeout(() => void tick(), this.options.config.reportResourcesPeriodMs);
  }

  private async reportOnce(): Promise<void> {
    const { client, node, logger, config } = this.options;
    try {
      if (this.needsRegistration) {
        await client.registerNode(this.registration());
        this.needsRegistration = false;
        logger.info('re-registered with the head', { head: client.address });
      }
      const reply = await client.reportResources({
        nodeId: node.nodeId, resourcesAvailable: this.options.available(), resourcesTotal: this.options.total(), pendingDemands: this.options.demands(), clusterId: this.clusterId,
        envJobIds: this.options.envJobIds?.() ?? [],
      }, config.gcsRpcTimeoutMs);
      this.lastContact = performance.now();
      if (reply.nodeDead) {
        this.fatal(`the head declared this node dead: ${reply.reason}`, 1);
      } else if (reply.reregister) {
        this.needsRegistration = true;
      } else {
        this.options.onClusterView?.(reply.clusterView);
        if (reply.finishedJobIds.length > 0) this.options.onFinishedJobs?.(reply.finishedJobIds);
      }
    } catch (err) {
      if (isFatal(err)) {
        this.fatal(`the head refused this node: ${(err as Error).message}`, 1);
        return;
      }
      if (!this.needsRegistration) logger.warn('lost contact with the head', { error: (err as Error).message });
      this.needsRegistration = true;
      const silentS = (performance.now() - this.lastContact) / 1000;
      if (silentS > config.gcsReconnectTimeoutS) {
        this.fatal(`the head at ${client.address} was unreachable for ${Math.round(silentS)} s (RAYTS_GCS_RECONNECT_TIMEOUT_S=${config.gcsReconnectTimeoutS})`, 1);
      }
    }
  }

  private fatal(reason: string, code: number): void {
    if (this.stopped) return;
    this.stop();
    this.options.onFatal(reason, code);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
