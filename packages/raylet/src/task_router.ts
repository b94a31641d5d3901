/**
 * Sends each task where the placement says: into the local scheduler, to another raylet over gRPC
 * (ExecuteTask stays open until the task finished there), back to its owner as unschedulable, or
 * into the infeasible list, which is retried whenever the cluster view changes (a node that fits may
 * have joined). Tasks waiting here for resources move to nodes that have them free (spillback).
 */
import {
  fits, toResourceMap, ClusterPlacement, formatAddress, type ClientPool, type RayletClient, type ViewNode, type Logger, type NodeResources__Output, type ResourceMap,
} from '@rayts/common';
import type { LocalScheduler, QueuedTask } from './local_scheduler.js';
import { outcomeFromProto, specToProto } from './task_proto.js';
import type { ResourceDemand } from './protocol.js';

/** What the router reads and moves in the local scheduler. */
export type RoutingScheduler = Pick<LocalScheduler, 'total' | 'available' | 'feasible' | 'canRunNow' | 'takeQueued' | 'demands'>;

/** Where tasks that run here go: the local scheduler's queue, through the gate that waits for the job's runtime env. */
export interface LocalQueue {
  enqueue(task: QueuedTask): void;
}

/** Where the other alive nodes' raylets are, from the latest cluster view. */
export interface NodeDirectory {
  /** The raylet address of another alive node. */
  addressOf(nodeId: string): string | undefined;
  /** The raylet addresses of the other alive nodes. */
  otherAddresses(): string[];
}

export class TaskRouter implements NodeDirectory {
  private view: ViewNode[] = [];
  private infeasible: QueuedTask[] = [];
  private readonly placement: ClusterPlacement;

  constructor(
    private readonly nodeId: string,
    private readonly scheduler: RoutingScheduler,
    private readonly local: LocalQueue,
    /** Clients of the other raylets; the router drops those of nodes that left the view. */
    private readonly raylets: ClientPool<RayletClient>,
    private readonly logger: Logger,
    spreadThreshold: number,
  ) {
    this.placement = new ClusterPlacement(nodeId, spreadThreshold);
  }

  /** This node as placement sees it (the decision for it is 'local': its address is never used). */
  private localView(): ViewNode {
    return { nodeId: this.nodeId, address: '', total: this.scheduler.total, available: this.scheduler.available };
  }

  route(task: QueuedTask): void {
    const decision = this.placement.decide(task.spec.resources, task.spec.strategy, this.localView(), this.view);
    switch (decision.kind) {
      case 'local':
        this.local.enqueue(task);
        return;
      case 'remote':
        this.forward(task, decision.node);
        return;
      case 'infeasible':
        this.infeasible.push(task);
        this.logger.info('task is infeasible for now', { taskId: task.spec.taskId, resources: task.spec.resources });
        return;
      case 'unschedulable':
        task.deliver({ taskId: task.spec.taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: this.nodeId,
          failure: { type: 'UNSCHEDULABLE', message: decision.reason } });
    }
  }

  /** Runs a task another raylet placed here: locally when it fits this node, else placed again. */
  accept(task: QueuedTask): void {
    if (this.scheduler.feasible(task.spec.resources)) this.local.enqueue(task);
    else this.route(task);
  }

  private forward(task: QueuedTask, node: ViewNode): void {
    // Count it against the target until its next report, so a burst spreads instead of piling up.
    for (const [k, v] of Object.entries(task.spec.resources)) node.available[k] = (node.available[k] ?? 0) - v;
    this.raylets.get(node.address).executeTask({ task: specToProto(task.spec), jobDir: task.jobDir })
      .then((m) => task.deliver(outcomeFromProto(m)))
      .catch((err: Error) => task.deliver({
        taskId: task.spec.taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: node.nodeId,
        failure: { type: 'NODE_DIED', message: `node ${node.nodeId.slice(0, 12)}… (${node.address}) failed while running it: ${err.message}` },
      }));
  }

  /** A fresh cluster view: retry infeasible tasks and move waiting ones to nodes with free resources. */
  updateView(nodes: NodeResources__Output[]): void {
    const addresses = new Set(nodes.map((n) => formatAddress(n.nodeIp, n.rayletPort)));
    this.raylets.retain((address) => addresses.has(address));
    this.view = nodes.filter((n) => n.nodeId !== this.nodeId).map((n) => ({
      nodeId: n.nodeId, address: formatAddress(n.nodeIp, n.rayletPort), total: toResourceMap(n.total), available: toResourceMap(n.available),
    }));
    const retry = this.infeasible;
    this.infeasible = [];
    for (const t of retry) this.route(t);
    this.spillWaiting();
  }

  private spillWaiting(): void {
    const others = this.view.filter((n) => Object.keys(n.available).length > 0);
    if (others.length === 0) return;
    const movable = this.scheduler.takeQueued((t) => t.spec.strategy.kind !== 'NODE_AFFINITY'
      && !this.scheduler.canRunNow(t.spec.resources) && others.some((n) => fits(t.spec.resources, n.available)));
    for (const t of movable) {
      const target = others.find((n) => fits(t.spec.resources, n.available));
      if (target) this.forward(t, target);
      else this.local.enqueue(t);
    }
  }

  /** Cancels a task waiting in the infeasible list. */
  cancelInfeasible(taskId: string): void {
    const i = this.infeasible.findIndex((t) => t.spec.taskId === taskId);
    if (i < 0) return;
    const [t] = this.infeasible.splice(i, 1);
    t!.deliver({ taskId, attempt: t!.spec.attempt, returnId: t!.spec.returnId, nodeId: this.nodeId, failure: { type: 'CANCELLED', message: 'cancelled while no node could run it' } });
  }

  /** The raylet addresses of the other alive nodes. */
  otherAddresses(): string[] {
    return this.view.map((n) => n.address);
  }

  /** The raylet address of another alive node (from the cluster view; this node is not in it). */
  addressOf(nodeId: string): string | undefined {
    return this.view.find((n) => n.nodeId === nodeId)?.address;
  }

  /** Tasks no node can run yet. */
  get infeasibleCount(): number {
    return this.infeasible.length;
  }

  demands(): ResourceDemand[] {
    const local = this.scheduler.demands((shape) => !this.feasibleAnywhere(shape));
    const byShape = new Map<string, ResourceDemand>();
    for (const t of this.infeasible) {
      const key = JSON.stringify(Object.entries(t.spec.resources).sort());
      const d = byShape.get(key);
      if (d) d.count = (d.count ?? 0) + 1;
      else byShape.set(key, { shape: t.spec.resources, count: 1, kind: 'task', strategy: '', infeasible: true });
    }
    return [...local, ...byShape.values()];
  }

  private feasibleAnywhere(shape: ResourceMap): boolean {
    return fits(shape, this.scheduler.total) || this.view.some((n) => fits(shape, n.total));
  }
}

