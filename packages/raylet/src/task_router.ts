/**
 * Sends each task where the placement says: into the local scheduler, to another raylet over gRPC
 * (ExecuteTask stays open until the task finished there), back to its owner as unschedulable, or
 * into the infeasible list, which is retried whenever the cluster view changes (a node that fits may
 * have joined). Tasks waiting here for resources move to nodes that have them free (spillback).
 *
 * A node that a forwarded task failed on (the call could not reach it) or that another raylet
 * reported dead goes into `UnreachableNodes`: placement leaves it out until the head declares it
 * dead or it answers again, so retries go elsewhere; a task with hard affinity to it waits for that
 * verdict (then runs there, or fails as unschedulable once the node is dead).
 */
import {
  fits, toResourceMap, ClusterPlacement, ClusterUnreachableError, formatAddress,
  type ClientPool, type RayletClient, type ViewNode, type Logger, type NodeResources__Output, type ResourceMap,
} from '@rayts/common';
import type { LocalScheduler, QueuedTask } from './local_scheduler.js';
import { outcomeFromProto, specToProto } from './task_proto.js';
import type { ResourceDemand } from './protocol.js';
import type { UnreachableNodes } from './unreachable_nodes.js';
import { ForwardedTasks } from './forwarded_tasks.js';

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
  /** Tasks with hard affinity to an unreachable node: routed again at each view until the head decides. */
  private awaitingNode: QueuedTask[] = [];
  private readonly placement: ClusterPlacement;
  /** Tasks out on other nodes (their ExecuteTask still open): failed at once when their node leaves the view. */
  private readonly forwarded = new ForwardedTasks();

  constructor(
    private readonly nodeId: string,
    private readonly scheduler: RoutingScheduler,
    private readonly local: LocalQueue,
    /** Clients of the other raylets; the router drops those of nodes that left the view. */
    private readonly raylets: ClientPool<RayletClient>,
    /** Nodes calls failed on that the head has not declared dead yet (shared with the object manager). */
    private readonly unreachable: UnreachableNodes,
    private readonly logger: Logger,
    spreadThreshold: number,
  ) {
    this.placement = new ClusterPlacement(nodeId, spreadThreshold);
  }

  /** The other nodes placement may choose: the view without the unreachable ones. */
  private reachable(): ViewNode[] {
    return this.unreachable.size === 0 ? this.view : this.view.filter((n) => !this.unreachable.has(n.nodeId));
  }

  /** This node as placement sees it (the decision for it is 'local': its address is never used). */
  private localView(): ViewNode {
    return { nodeId: this.nodeId, address: '', total: this.scheduler.total, available: this.scheduler.available };
  }

  route(task: QueuedTask): void {
    const { strategy } = task.spec;
    if (strategy.kind === 'NODE_AFFINITY' && !strategy.soft && this.unreachable.has(strategy.nodeId)) {
      this.awaitingNode.push(task);
      this.logger.info('task waits for the head\'s verdict on the node it must run on', { taskId: task.spec.taskId, nodeId: strategy.nodeId });
      return;
    }
    const decision = this.placement.decide(task.spec.resources, strategy, this.localView(), this.reachable());
    if (task.lease && decision.kind !== 'local') {
      // A lease is only for this node's workers: the holder sends the tasks through here instead.
      task.lease.rejected(decision.kind === 'remote' ? 'another node has the resources free' : decision.kind === 'infeasible' ? 'no node can run it now' : decision.reason);
      return;
    }
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
    const deliver = this.forwarded.track(node.nodeId, task);
    this.raylets.get(node.address).executeTask({ task: specToProto(task.spec), jobDir: task.jobDir })
      .then((m) => {
        const outcome = outcomeFromProto(m);
        // The node it was forwarded to in turn lost it to a node death: a retry from here must not go there either.
        if (outcome.failure?.type === 'NODE_DIED') this.markUnreachable(outcome.nodeId, `${node.nodeId} reported: ${outcome.failure.message}`);
        deliver(outcome);
      }, (err: Error) => {
        if (err instanceof ClusterUnreachableError) this.markUnreachable(node.nodeId, err.message);
        deliver({
          taskId: task.spec.taskId, attempt: task.spec.attempt, returnId: task.spec.returnId, nodeId: node.nodeId,
          failure: { type: 'NODE_DIED', message: `node ${node.nodeId.slice(0, 12)}… (${node.address}) failed while running it: ${err.message}` },
        });
      });
  }

  /** A node of the view that calls fail on (one the view no longer has is dead already). */
  private markUnreachable(nodeId: string, reason: string): void {
    const node = this.view.find((n) => n.nodeId === nodeId);
    if (node) this.unreachable.mark(node.nodeId, node.address, reason);
  }

  /** A fresh cluster view: retry infeasible tasks and move waiting ones to nodes with free resources. */
  updateView(nodes: NodeResources__Output[]): void {
    const addresses = new Set(nodes.map((n) => formatAddress(n.nodeIp, n.rayletPort)));
    this.raylets.retain((address) => addresses.has(address));
    this.view = nodes.filter((n) => n.nodeId !== this.nodeId).map((n) => ({
      nodeId: n.nodeId, address: formatAddress(n.nodeIp, n.rayletPort), total: toResourceMap(n.total), available: toResourceMap(n.available),
    }));
    this.unreachable.reconcile(new Map(this.view.map((n) => [n.nodeId, n.address])));
    const alive = new Set(nodes.map((n) => n.nodeId));
    for (const gone of this.forwarded.nodes()) {
      if (!alive.has(gone)) this.forwarded.nodeGone(gone, `the head declared node ${gone.slice(0, 12)}… dead while it ran the task (it stopped answering)`);
    }
    const retry = [...this.infeasible, ...this.awaitingNode];
    this.infeasible = [];
    this.awaitingNode = [];
    for (const t of retry) this.route(t);
    this.spillWaiting();
  }

  private spillWaiting(): void {
    const others = this.reachable().filter((n) => Object.keys(n.available).length > 0);
    if (others.length === 0) return;
    const movable = this.scheduler.takeQueued((t) => t.spec.strategy.kind !== 'NODE_AFFINITY'
      && !this.scheduler.canRunNow(t.spec.resources) && others.some((n) => fits(t.spec.resources, n.available)));
    for (const t of movable) {
      if (t.lease) {
        t.lease.rejected('another node has the resources free');
        continue;
      }
      const target = others.find((n) => fits(t.spec.resources, n.available));
      if (target) this.forward(t, target);
      else this.local.enqueue(t);
    }
  }

  /** Cancels a task waiting here for a node: in the infeasible list, or for the verdict on its affinity node. */
  cancelUnplaced(taskId: string): void {
    for (const list of [this.infeasible, this.awaitingNode]) {
      const i = list.findIndex((t) => t.spec.taskId === taskId);
      if (i < 0) continue;
      const [t] = list.splice(i, 1);
      t!.deliver({ taskId, attempt: t!.spec.attempt, returnId: t!.spec.returnId, nodeId: this.nodeId, failure: { type: 'CANCELLED', message: 'cancelled while no node could run it' } });
      return;
    }
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

