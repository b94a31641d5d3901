/**
 * How actor calls leave this process. A caller on the actor's node talks to the actor's worker over
 * the worker's own socket (one hop each way); a caller elsewhere sends the call to its raylet, which
 * relays it over gRPC to the actor's raylet, and the outcome comes back on the raylet connection.
 */
import { connectFramed, type FramedConnection } from '@rayts/common';
import type { ActorCore, ActorTarget } from './actor_core.js';
import type { CallerHello, Execute, TaskOutcome, TaskResult, TaskSpec } from '../protocol/messages.js';

/** A caller's open connection to an actor worker's socket. */
export interface WorkerChannel {
  send(message: Execute): void;
  close(): void;
}

/** What a worker channel reports, from the moment it is open. */
export interface ChannelEvents {
  result(outcome: TaskOutcome): void;
  closed(): void;
}

/** The two ways out, as an actor's queue uses them (unit tests fake this). */
export interface ActorTransport {
  /** This node: actors here are called over their worker's socket, others through the raylet. */
  readonly nodeId: string;
  /**
   * Opens a connection to an actor worker's socket on this node and introduces this caller.
   * `patient`: the worker was only just given the actor and may not listen yet, so a refused or
   * missing socket is tried again for a short while.
   */
  dial(socketPath: string, patient: boolean, events: ChannelEvents): Promise<WorkerChannel>;
  /** Sends a call to an actor on another node through this node's raylet. */
  relay(target: ActorTarget, task: TaskSpec): void;
}

type CallerConnection = FramedConnection<TaskResult, CallerHello | Execute>;

/** The transport of a real process: sockets on this node, the raylet connection for the rest. */
export class RayletTransport implements ActorTransport {
  /** Calls relayed through the raylet, by task id, with their actor: their outcomes arrive on the raylet connection. */
  private readonly relayed = new Map<string, string>();

  constructor(private readonly core: Pick<ActorCore, 'localNodeId' | 'options' | 'send'>, private readonly earlyConnectMs: number) {}

  get nodeId(): string {
    return this.core.localNodeId;
  }

  async dial(socketPath: string, patient: boolean, events: ChannelEvents): Promise<WorkerChannel> {
    const conn = patient ? await this.connectSoon(socketPath) : await connectFramed<TaskResult, CallerHello | Execute>(socketPath);
    conn.send({ type: 'hello', role: 'caller', token: this.core.options.token });
    conn.on('message', (m) => { if (m.type === 'taskResult') events.result(m.outcome); });
    conn.on('close', () => events.closed());
    return conn;
  }

  relay(target: ActorTarget, task: TaskSpec): void {
    this.relayed.set(task.taskId, task.actorId!);
    this.core.send({ type: 'actorCall', nodeId: target.nodeId, workerId: target.workerId, task });
  }

  /** The actor a relayed call's outcome belongs to (forgotten now), or undefined for a task's outcome. */
  takeRelayed(taskId: string): string | undefined {
    const actorId = this.relayed.get(taskId);
    this.relayed.delete(taskId);
    return actorId;
  }

  /** Connects to a socket that may not listen yet: refused or missing is tried again every millisecond or two. */
  private async connectSoon(path: string): Promise<CallerConnection> {
    const deadline = performance.now() + this.earlyConnectMs;
    for (;;) {
      try {
        return await connectFramed<TaskResult, CallerHello | Execute>(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if ((code !== 'ENOENT' && code !== 'ECONNREFUSED') || performance.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 1));
      }
    }
  }
}
