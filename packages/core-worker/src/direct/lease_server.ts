/**
 * The worker's side of a lease: once its raylet leased it to an owner (`leased`), it listens on its
 * own socket, where lease holders push tasks (`execute`) and get their outcomes (`taskResult`) and,
 * when a running task blocks in get, the tasks queued behind it (`returnTasks`) back. The raylet
 * never sees those tasks, so the worker counts them in a file the raylet reads for its metrics.
 */
import type { Server } from 'node:net';
import { listenForCallers } from '../caller_socket.js';
import { noCallCounter, type CallCounter } from '../actor/call_counts.js';
import type { TaskExecutor, TaskOrigin } from '../task_executor.js';
import type { Execute, Leased, LeaseWorkerMessage } from '../protocol/messages.js';

export interface LeaseServerDeps {
  executor: Pick<TaskExecutor, 'execute'>;
  /** The cluster token lease holders must present. */
  token: string;
  openCounter(path: string): CallCounter;
  /** The socket could not be opened (said once on stderr: tasks pushed here will not arrive, and their owner's dial fails). */
  warn(message: string): void;
}

/**
 * - `idle`: never leased, no socket.
 * - `listening`: the socket is open (or opening) and stays so for the worker's life.
 */
type ServerState = { kind: 'idle' } | { kind: 'listening'; server: Promise<Server | undefined> };

export class LeaseServer {
  private state: ServerState = { kind: 'idle' };
  private counter: CallCounter = noCallCounter;

  constructor(private readonly deps: LeaseServerDeps) {}

  /** The raylet leased this worker: open the socket the first time (later leases use the same path). */
  leased(m: Leased): void {
    if (this.state.kind === 'listening') return;
    this.counter = this.deps.openCounter(m.countsPath);
    const server = listenForCallers<Execute, LeaseWorkerMessage>(m.socketPath, this.deps.token, (conn) => {
      const origin = this.originFor((message) => conn.send(message));
      conn.on('message', (msg) => { if (msg.type === 'execute') this.deps.executor.execute(msg, origin); });
    }).catch((err: Error) => {
      this.deps.warn(`rayts: cannot listen for leased tasks on ${m.socketPath}: ${err.message}`);
      return undefined;
    });
    this.state = { kind: 'listening', server };
  }

  close(): void {
    if (this.state.kind === 'listening') void this.state.server.then((s) => s?.close());
  }

  private originFor(send: (message: LeaseWorkerMessage) => void): TaskOrigin {
    const counter = this.counter;
    return {
      began: () => counter.started(),
      reply: (outcome) => {
        // Counted before the reply goes: an owner that saw the result finds it counted.
        counter.ended(!!outcome.failure);
        send({ type: 'taskResult', outcome });
      },
      giveBack: (taskIds) => send({ type: 'returnTasks', taskIds }),
    };
  }
}
