/**
 * The raylet's local socket (`<session>/sockets/raylet.sock`, in a 0700 directory): drivers and
 * workers of this node connect, prove the cluster token in their hello, and then submit tasks,
 * report results and ask for objects. Each connection is a client with an id the raylet routes by.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import { FramedConnection, tokensEqual, type Logger } from '@rayts/common';
import type { ClientMessage, OwnedState, RayletMessage, RefInfo, TaskOutcome, TaskSpec, Welcome } from './scheduler_types.js';

export interface LocalClient {
  clientId: string;
  role: 'driver' | 'worker';
  pid: number;
  jobId: string;
  jobDir: string;
  conn: FramedConnection<ClientMessage, RayletMessage>;
}

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
}

export interface ClientRefs {
  client: LocalClient;
  refs: RefInfo[];
}

const HELLO_TIMEOUT_MS = 10_000;

export class LocalServer {
  readonly clients = new Map<string, LocalClient>();
  private server?: Server;
  private nextDriver = 1;
  private nextRefsReq = 1;
  private readonly refsWaiters = new Map<number, (refs: RefInfo[]) => void>();
  private readonly ownerWaiters = new Map<number, { clientId: string; resolve: (s: OwnedState | undefined) => void }>();

  constructor(
    readonly socketPath: string,
    private readonly token: string,
    private readonly welcome: Omit<Welcome, 'clientId'>,
    private readonly handlers: LocalServerHandlers,
    private readonly logger: Logger,
  ) {}

  listen(): Promise<void> {
    rmSync(this.socketPath, { force: true });
    this.server = createServer((socket) => this.accept(socket));
    return new Promise((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.socketPath, () => {
        chmodSync(this.socketPath, 0o600);
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    const conn = new FramedConnection<ClientMessage, RayletMessage>(socket);
    const timer = setTimeout(() => conn.socket.destroy(), HELLO_TIMEOUT_MS);
    conn.once('message', (hello) => {
      clearTimeout(timer);
      if (hello.type !== 'hello' || typeof hello.token !== 'string' || !tokensEqual(hello.token, this.token)) {
        this.logger.warn('refused a local client without the cluster token');
        conn.send({ type: 'refused', reason: 'missing or wrong cluster token' });
        conn.close();
        return;
      }
      const client: LocalClient = {
        clientId: hello.role === 'worker' ? hello.workerId : `driver-${process.pid}-${this.nextDriver++}`,
        role: hello.role, pid: hello.pid, jobId: hello.role === 'driver' ? hello.jobId : '',
        jobDir: hello.role === 'driver' ? hello.jobDir : '', conn,
      };
      if (hello.role === 'worker' && !this.handlers.workerConnected(client, hello.workerId)) {
        conn.send({ type: 'refused', reason: 'unknown worker id' });
        conn.close();
        return;
      }
      this.clients.set(client.clientId, client);
      conn.send({ ...this.welcome, clientId: client.clientId });
      if (client.role === 'driver') this.handlers.driverConnected(client);
      conn.on('message', (m) => this.dispatch(client, m));
      conn.on('close', () => {
        this.clients.delete(client.clientId);
        for (const [id, w] of this.ownerWaiters) {
          if (w.clientId === client.clientId) { this.ownerWaiters.delete(id); w.resolve(undefined); }
        }
        this.handlers.disconnected(client);
      });
    });
    conn.on('close', () => clearTimeout(timer));
  }

  private dispatch(client: LocalClient, m: ClientMessage): void {
    switch (m.type) {
      case 'submit': return this.handlers.submit(client, m.task);
      case 'taskDone': return this.handlers.taskDone(client, m.outcome);
      case 'blocked': return this.handlers.blocked(client, true);
      case 'unblocked': return this.handlers.blocked(client, false);
      case 'cancel': return this.handlers.cancel(client, m.taskId, m.force);
      case 'returnTasks': return this.handlers.returnTasks(client, m.taskIds);
      case 'hello': return;
      case 'logs': return this.handlers.logs(client, m);
      case 'actorCreated': return this.handlers.actorCreated(client, m);
      case 'actorCall': return this.handlers.actorCall(client, m);
      case 'ownerLookupReply': {
        const waiter = this.ownerWaiters.get(m.reqId);
        this.ownerWaiters.delete(m.reqId);
        waiter?.resolve(m.state);
        return;
      }
      case 'refsReply': {
        const waiter = this.refsWaiters.get(m.reqId);
        this.refsWaiters.delete(m.reqId);
        waiter?.(m.refs);
        return;
      }
      default: return this.handlers.request(client, m);
    }
  }

  /** Asks a local owner about its object; undefined when the owner is not (or no longer) connected. */
  askOwner(clientId: string, objectId: string): Promise<OwnedState | undefined> {
    const client = this.clients.get(clientId);
    if (!client) return Promise.resolve(undefined);
    const reqId = this.nextRefsReq++;
    return new Promise((resolve) => {
      this.ownerWaiters.set(reqId, { clientId, resolve });
      client.conn.send({ type: 'ownerLookup', reqId, objectId });
    });
  }

  /** Asks every client for its object references; clients that do not answer in time are left out. */
  async collectRefs(timeoutMs: number): Promise<ClientRefs[]> {
    const asks = [...this.clients.values()].map((client) => new Promise<ClientRefs | undefined>((resolve) => {
      const reqId = this.nextRefsReq++;
      const timer = setTimeout(() => { this.refsWaiters.delete(reqId); resolve(undefined); }, timeoutMs);
      this.refsWaiters.set(reqId, (refs) => { clearTimeout(timer); resolve({ client, refs }); });
      client.conn.send({ type: 'refsRequest', reqId });
    }));
    return (await Promise.all(asks)).filter((r): r is ClientRefs => !!r);
  }

  /** Sends to every driver of the job connected here. */
  toDrivers(jobId: string, message: RayletMessage): void {
    for (const c of this.clients.values()) if (c.role === 'driver' && c.jobId === jobId) c.conn.send(message);
  }

  send(clientId: string, message: RayletMessage): boolean {
    const client = this.clients.get(clientId);
    if (!client) return false;
    client.conn.send(message);
    return true;
  }

  close(): void {
    for (const c of this.clients.values()) c.conn.socket.destroy();
    this.server?.close();
    rmSync(this.socketPath, { force: true });
  }
}
