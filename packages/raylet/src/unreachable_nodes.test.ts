import { describe, expect, it } from 'vitest';
import { ClientPool, ClusterUnreachableError, nullLogger, pollUntil, type NodeResources__Output, type RayletClient } from '@rayts/common';
import { UnreachableNodes } from './unreachable_nodes.js';
import { TaskRouter, type RoutingScheduler } from './task_router.js';
import type { QueuedTask } from './local_scheduler.js';
import type { TaskOutcome, TaskSpec } from './protocol.js';

const A = 'a'.repeat(56);
const B = 'b'.repeat(56);
const C = 'c'.repeat(56);

/** A prober whose answers the test decides, probe by probe. */
class Prober {
  readonly calls: string[] = [];
  private readonly pending: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  probe(_address: string, nodeId: string): Promise<void> {
    this.calls.push(nodeId);
    return new Promise((resolve, reject) => this.pending.push({ resolve, reject }));
  }
  answer(ok: boolean): void {
    const p = this.pending.shift()!;
    if (ok) p.resolve();
    else p.reject(new Error('connect ECONNREFUSED'));
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('UnreachableNodes', () => {
  it('keeps a node until the head drops it from the view; probes it once at a time meanwhile', async () => {
    const prober = new Prober();
    const u = new UnreachableNodes(prober, nullLogger);
    u.mark(B, '127.0.0.2:1', 'refused');
    u.mark(B, '127.0.0.2:1', 'refused again');
    expect(u.has(B)).toBe(true);
    u.reconcile(new Map([[B, '127.0.0.2:1']]));
    u.reconcile(new Map([[B, '127.0.0.2:1']]));
    expect(prober.calls).toEqual([B]);
    prober.answer(false);
    await flush();
    expect(u.has(B)).toBe(true);
    u.reconcile(new Map([[B, '127.0.0.2:1']]));
    expect(prober.calls).toEqual([B, B]);
    u.reconcile(new Map()); // declared dead
    expect(u.has(B)).toBe(false);
    prober.answer(true); // a late answer about an entry already gone changes nothing
    await flush();
    expect(u.size).toBe(0);
  });

  it('a node that answers a probe again is placed on again', async () => {
    const prober = new Prober();
    const u = new UnreachableNodes(prober, nullLogger);
    u.mark(B, '127.0.0.2:1', 'reset');
    u.reconcile(new Map([[B, '127.0.0.2:1']]));
    prober.answer(true);
    await flush();
    expect(u.has(B)).toBe(false);
  });
});

/** A raylet client whose ExecuteTask calls stay open until the test settles them. */
class FakeRaylet {
  readonly calls: Array<{ taskId: string; resolve: (m: unknown) => void; reject: (e: Error) => void }> = [];
  executeTask(req: { task: { taskId: string } }): Promise<unknown> {
    return new Promise((resolve, reject) => this.calls.push({ taskId: req.task.taskId, resolve, reject }));
  }
  close(): void {}
}

function routerWith(localCpu: number) {
  const raylets = new Map<string, FakeRaylet>();
  const pool = new ClientPool((address) => {
    const r = new FakeRaylet();
    raylets.set(address, r);
    return r as unknown as RayletClient;
  });
  const local: QueuedTask[] = [];
  const scheduler = {
    total: { CPU: localCpu }, available: { CPU: localCpu },
    feasible: () => true, canRunNow: () => false, takeQueued: () => [], demands: () => [],
  } as unknown as RoutingScheduler;
  const prober = new Prober();
  const unreachable = new UnreachableNodes(prober, nullLogger);
  const router = new TaskRouter(A, scheduler, { enqueue: (t) => local.push(t) }, pool, unreachable, nullLogger, 0.5);
  return { router, raylets, local, prober, unreachable };
}

const nodeMsg = (nodeId: string, ip: string, cpu: number): NodeResources__Output =>
  ({ nodeId, nodeIp: ip, rayletPort: 1, total: { CPU: cpu }, available: { CPU: cpu }, labels: {} }) as NodeResources__Output;

let seq = 0;
function task(strategy: TaskSpec['strategy'], outcomes: TaskOutcome[]): QueuedTask {
  seq += 1;
  const spec = {
    taskId: String(seq).padStart(48, '0'), jobId: '01000000', attempt: 0, name: 't', fnHash: 'f', args: [], returnId: String(seq).padStart(56, '0'),
    resources: { CPU: 1 }, strategy, owner: { nodeId: A, clientId: 'c' }, depth: 0, driverNodeId: A,
  } as unknown as TaskSpec;
  return { spec, jobDir: '/tmp', queuedAt: 0, deliver: (o) => outcomes.push(o) };
}

describe('TaskRouter after a forward failed', () => {
  it('places around a node it could not reach: soft affinity falls back, hard affinity waits for the head, then fails naming the node', async () => {
    const { router, raylets, local, prober } = routerWith(2);
    router.updateView([nodeMsg(A, '127.0.0.1', 2), nodeMsg(B, '127.0.0.2', 2)]);
    const outcomes: TaskOutcome[] = [];
    router.route(task({ kind: 'NODE_AFFINITY', nodeId: B, soft: true }, outcomes));
    const toB = raylets.get('127.0.0.2:1')!;
    expect(toB.calls).toHaveLength(1);
    toB.calls[0]!.reject(new ClusterUnreachableError('no rayts raylet answers at 127.0.0.2:1 (ECONNREFUSED)'));
    await flush();
    expect(outcomes.map((o) => o.failure?.type)).toEqual(['NODE_DIED']);

    // The retries: soft affinity runs here at once; hard affinity waits while the head still lists B.
    router.route(task({ kind: 'NODE_AFFINITY', nodeId: B, soft: true }, outcomes));
    router.route(task({ kind: 'DEFAULT' }, outcomes));
    router.route(task({ kind: 'NODE_AFFINITY', nodeId: B, soft: false }, outcomes));
    expect(local).toHaveLength(2);
    expect(toB.calls).toHaveLength(1);
    router.updateView([nodeMsg(A, '127.0.0.1', 2), nodeMsg(B, '127.0.0.2', 2)]);
    expect(prober.calls).toEqual([B]);
    prober.answer(false);
    await flush();
    expect(outcomes).toHaveLength(1);
    // The head declares B dead: the hard-affinity task fails as unschedulable, naming B.
    router.updateView([nodeMsg(A, '127.0.0.1', 2)]);
    expect(outcomes).toHaveLength(2);
    expect(outcomes[1]!.failure).toMatchObject({ type: 'UNSCHEDULABLE' });
    expect(outcomes[1]!.failure!.message).toContain(B);
  });

  it('a node that answers a probe again takes the task that waited for it', async () => {
    const { router, raylets, prober, unreachable } = routerWith(2);
    const view = [nodeMsg(A, '127.0.0.1', 2), nodeMsg(B, '127.0.0.2', 2)];
    router.updateView(view);
    const outcomes: TaskOutcome[] = [];
    router.route(task({ kind: 'NODE_AFFINITY', nodeId: B, soft: false }, outcomes));
    const toB = raylets.get('127.0.0.2:1')!;
    toB.calls[0]!.reject(new ClusterUnreachableError('connection reset'));
    await flush();
    router.route(task({ kind: 'NODE_AFFINITY', nodeId: B, soft: false }, outcomes));
    expect(toB.calls).toHaveLength(1);
    router.updateView(view);
    prober.answer(true);
    expect(await pollUntil(() => !unreachable.has(B), 1000, 1)).toBe(true);
    router.updateView(view);
    expect(toB.calls).toHaveLength(2);
  });

  it('a node another raylet reported dead is avoided here too; a cancelled waiting task is answered', async () => {
    const { router, raylets, local } = routerWith(1);
    router.updateView([nodeMsg(A, '127.0.0.1', 1), nodeMsg(B, '127.0.0.2', 2), nodeMsg(C, '127.0.0.3', 2)]);
    const outcomes: TaskOutcome[] = [];
    const t = task({ kind: 'NODE_AFFINITY', nodeId: C, soft: true }, outcomes);
    router.route(t);
    // C's raylet passed it on to B and B died under it: C answers NODE_DIED naming B.
    raylets.get('127.0.0.3:1')!.calls[0]!.resolve({
      taskId: t.spec.taskId, attempt: 0, returnId: t.spec.returnId, nodeId: B, failed: true, failure: { type: 'NODE_DIED', message: 'B is gone', cause: Buffer.alloc(0) },
    });
    await flush();
    expect(outcomes[0]!.failure?.type).toBe('NODE_DIED');
    const hard = task({ kind: 'NODE_AFFINITY', nodeId: B, soft: false }, outcomes);
    router.route(hard);
    expect(raylets.get('127.0.0.2:1')).toBeUndefined();
    expect(local).toHaveLength(0);
    router.cancelUnplaced(hard.spec.taskId);
    expect(outcomes[1]!.failure?.type).toBe('CANCELLED');
  });
});
