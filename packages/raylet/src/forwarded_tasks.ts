/**
 * Tasks this raylet forwarded to other nodes and whose ExecuteTask call is still open, by node. The
 * call stays open while the task runs there, so a node that silently drops off the network (a
 * partition, a dead switch) leaves it hanging with no error; when the head declares that node dead
 * (it leaves the cluster view), every task still out there fails here at once as NODE_DIED, and the
 * owner retries it elsewhere. Whatever the call answers later is ignored: each task is delivered once.
 */
import type { QueuedTask } from './local_scheduler.js';
import type { TaskOutcome } from './protocol.js';

interface Forward {
  task: QueuedTask;
  delivered: boolean;
}

export class ForwardedTasks {
  private readonly byNode = new Map<string, Set<Forward>>();

  /** Starts tracking `task` on `nodeId`; the returned function delivers its outcome (once; later calls do nothing). */
  track(nodeId: string, task: QueuedTask): (outcome: TaskOutcome) => void {
    const forward: Forward = { task, delivered: false };
    let set = this.byNode.get(nodeId);
    if (!set) this.byNode.set(nodeId, (set = new Set()));
    set.add(forward);
    return (outcome) => {
      if (forward.delivered) return;
      forward.delivered = true;
      set!.delete(forward);
      if (set!.size === 0 && this.byNode.get(nodeId) === set) this.byNode.delete(nodeId);
      task.deliver(outcome);
    };
  }

  /** Nodes with tasks out there now. */
  nodes(): string[] {
    return [...this.byNode.keys()];
  }

  /** `nodeId` left the cluster: its tasks fail now with `message`. */
  nodeGone(nodeId: string, message: string): void {
    const set = this.byNode.get(nodeId);
    if (!set) return;
    this.byNode.delete(nodeId);
    for (const f of set) {
      if (f.delivered) continue;
      f.delivered = true;
      const { spec } = f.task;
      f.task.deliver({ taskId: spec.taskId, attempt: spec.attempt, returnId: spec.returnId, nodeId, failure: { type: 'NODE_DIED', message } });
    }
  }
}
