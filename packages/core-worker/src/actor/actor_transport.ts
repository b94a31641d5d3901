/**
 * How actor calls leave this process. A caller on the actor's node talks to the actor's worker over
 * the worker's own socket (one hop each way); a caller elsewhere sends the call to its raylet, which
 * relays it over gRPC to the actor's raylet, and the outcome comes back on the raylet connection.
 */
import { dialWorker } from '../caller_socket.js';
import type { ActorCore, ActorTarget } from './actor_core.js';
import type { Execute, TaskOutcome, TaskResult, TaskSpec } from '../protocol/messages.js';

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

/** The transport of a real process: sockets on this node, the raylet connection for the rest. */
export class RayletTransport implements ActorTransport {
  /** Calls relayed through the raylet, by task id, with their actor: their outcomes arrive on the raylet connection. */
  private readonly relayed = new Map<string, string>();

  constructor(private readonly core: Pick<ActorCore, 'localNodeId' | 'options' | 'send'>, private readonly earlyConnectMs: number) {}

  get nodeId(): string {
    return this.core.localNodeId;
  }

  async dial(socketPath: string, patient: boolean, events: ChannelEvents): Promise<WorkerChannel> {
    const conn = await dialWorker<TaskResult, Execute>(socketPath, this.core.options.token, patient ? this.earlyConnectMs : 0);
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
}
