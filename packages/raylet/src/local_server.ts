/**
 * The raylet's local socket (`<session>/sockets/raylet.sock`, in a 0750 directory, mode 0660: the owner's group may connect): drivers and
 * workers of this node connect, prove the cluster token in their hello, and then submit tasks,
 * report results and ask for objects. Each connection is a client with an id the raylet routes by.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { FramedConnection, SHARED_FILE_MODE, tokensEqual, v, type Logger } from '@rayts/common';
import type { ClientMessage, RayletMessage, TaskOutcome, TaskSpec, Welcome } from './protocol.js';
import type { LocalClient, LocalClients } from './local_clients.js';
import { localHelloSchema } from './request_schemas.js';
import { localMessageProblem } from './local_schemas.js';

export interface LocalServerHandlers {
  /** Accept a worker's hello (false: not one of ours). */
  workerConnected(client: LocalClient, workerId: string): boolean;
  driverConnected(client: LocalClient): void;
  disconnected(client: LocalClient): void;
  submit(client: LocalClient, task: TaskSpec): void;
  taskDone(client: LocalClient, outcome: TaskOutcome): void;
  blocked(client: LocalClient, blocked: boolean): void;
  cancel(client: LocalClient, taskId: string, force: boolean): void;
  returnTasks(client: LocalClient, taskIds: string[]): void;
  request(client: LocalClient, message: Extract<ClientMessage, { reqId: number }>): void;
  logs(client: LocalClient, message: Extract<ClientMessage, { type: 'logs' }>): void;
  actorCreated(client: LocalClient, message: Extract<ClientMessage, { type: 'actorCreated' }>): void;
  actorCall(client: LocalClient, message: Extract<ClientMessage, { type: 'actorCall' }>): void;
  requestLease(client: LocalClient, message: Extract<ClientMessage, { type: 'requestLease' }>): void;
  returnLease(client: LocalClient, message: Extract<ClientMessage, { type: 'returnLease' }>): void;
  leaseBacklog(client: LocalClient, message: Extract<ClientMessage, { type: 'leaseBacklog' }>): void;
}

export interface LocalServerOptions {
  socketPath: string;
  token: string;
  /** What every accepted client is told first (its client id is added). */
  welcome: Omit<Welcome, 'clientId'>;
  /** The registry of connected clients this server fills. */
  clients: LocalClients;
  handlers: LocalServerHandlers;
  /** A connection that has not said hello within this time is closed. */
  helloTimeoutMs: number;
  logger: Logger;
}

export class LocalServer {
  private server?: Server;
  private nextDriver = 1;
  /** Connections that have not said hello yet, with their deadline (closed on stop). */
  private readonly greeting = new Map<Socket, NodeJS.Timeout>();

  constructor(private readonly options: LocalServerOptions) {}

  get socketPath(): string {
    return this.options.socketPath;
  }

  listen(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.server = createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => {
        chmodSync(this.socketPath, SHARED_FILE_MODE); // the owner's group may run drivers here (with the token)
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const { clients, handlers, logger } = this.options;
    const conn = new FramedConnection<ClientMessage, RayletMessage>(socket);
    const greeted = () => {
      clearTimeout(this.greeting.get(socket));
      this.greeting.delete(socket);
    };
    this.greeting.set(socket, setTimeout(() => conn.socket.destroy(), this.options.helloTimeoutMs));
    conn.once('message', (hello) => {
      greeted();
      if (hello.type !== 'hello' || typeof hello.token !== 'string' || !tokensEqual(hello.token, this.options.token)) {
        logger.warn('refused a local client without the cluster token');
        conn.send({ type: 'refused', reason: 'missing or wrong cluster token' });
        conn.close();
        return;
      }
      const malformed = v.problemOf(localHelloSchema, hello, 'hello');
      if (malformed) {
        logger.warn('refused a local client with a malformed hello', { error: malformed });
        conn.send({ type: 'refused', reason: malformed });
        conn.close();
        return;
      }
      const client: LocalClient = {
        clientId: hello.role === 'worker' ? hello.workerId : `driver-${process.pid}-${this.nextDriver++}`,
        role: hello.role, pid: hello.pid, jobId: hello.role === 'driver' ? hello.jobId : '',
        jobDir: hello.role === 'driver' ? hello.jobDir : '', runtimeEnvJson: hello.role === 'driver' && typeof hello.runtimeEnvJson === 'string' ? hello.runtimeEnvJson : '',
        conn, connectedAtMs: Date.now(),
      };
      if (hello.role === 'worker' && !handlers.workerConnected(client, hello.workerId)) {
        conn.send({ type: 'refused', reason: 'unknown worker id' });
        conn.close();
        return;
      }
      clients.add(client);
      conn.send({ ...this.options.welcome, clientId: client.clientId });
      if (client.role === 'driver') handlers.driverConnected(client);
      conn.on('message', (m) => this.dispatch(client, m));
      conn.on('close', () => {
        clients.remove(client);
        handlers.disconnected(client);
      });
    });
    conn.on('close', greeted);
  }

  private dispatch(client: LocalClient, m: ClientMessage): void {
    const { clients, handlers, logger } = this.options;
    const problem = localMessageProblem(m);
    if (problem) {
      // Nothing of a malformed message reaches a handler: the client is told in the log and let go.
      logger.warn('disconnected a local client that sent a malformed message', { clientId: client.clientId, role: client.role, pid: client.pid, problem });
      client.conn.close();
      return;
    }
    switch (m.type) {
      case 'submit': return handlers.submit(client, m.task);
      case 'taskDone': return handlers.taskDone(client, m.outcome);
      case 'blocked': return handlers.blocked(client, true);
      case 'unblocked': return handlers.blocked(client, false);
      case 'cancel': return handlers.cancel(client, m.taskId, m.force);
      case 'returnTasks': return handlers.returnTasks(client, m.taskIds);
      case 'hello': return;
      case 'logs': return handlers.logs(client, m);
      case 'actorCreated': return handlers.actorCreated(client, m);
      case 'actorCall': return handlers.actorCall(client, m);
      case 'requestLease': return handlers.requestLease(client, m);
      case 'returnLease': return handlers.returnLease(client, m);
      case 'leaseBacklog': return handlers.leaseBacklog(client, m);
      case 'ownerLookupReply': return clients.ownerAnswered(m.reqId, m.state);
      case 'refsReply': return clients.refsAnswered(m.reqId, m.refs);
      default: return handlers.request(client, m);
    }
  }

  close(): void {
    for (const [socket, timer] of this.greeting) { clearTimeout(timer); socket.destroy(); }
    this.greeting.clear();
    this.options.clients.close();
    this.server?.close();
    rmSync(this.socketPath, { force: true });
  }
}
