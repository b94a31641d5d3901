/**
 * The drivers and workers connected to this raylet's local socket, by client id, and the questions
 * the raylet asks them (an owner about its object, everyone about their references). The local
 * server adds and removes clients; the parts that talk to clients get this, not the server.
 */
import type { FramedConnection } from '@rayts/common';
import type { ClientMessage, OwnedState, RayletMessage, RefInfo } from './protocol.js';

export interface LocalClient {
  clientId: string;
  role: 'driver' | 'worker';
  pid: number;
  jobId: string;
  jobDir: string;
  /** A driver's job runtime env as it registered it (resolved JSON, '' for none). */
  runtimeEnvJson: string;
  conn: FramedConnection<ClientMessage, RayletMessage>;
  connectedAtMs: number;
}

export interface ClientRefs {
  client: LocalClient;
  refs: RefInfo[];
}

export class LocalClients {
  private readonly clients = new Map<string, LocalClient>();
  private nextReqId = 1;
  private readonly refsWaiters = new Map<number, { timer: NodeJS.Timeout; resolve: (refs: RefInfo[] | undefined) => void }>();
  private readonly ownerWaiters = new Map<number, { clientId: string; resolve: (s: OwnedState | undefined) => void }>();

  add(client: LocalClient): void {
    this.clients.set(client.clientId, client);
  }

  /** The client's connection closed: questions waiting on it are answered "unknown". */
  remove(client: LocalClient): void {
    this.clients.delete(client.clientId);
    for (const [id, w] of this.ownerWaiters) {
      if (w.clientId === client.clientId) { this.ownerWaiters.delete(id); w.resolve(undefined); }
    }
  }

  list(): LocalClient[] {
    return [...this.clients.values()];
  }

  get(clientId: string): LocalClient | undefined {
    return this.clients.get(clientId);
  }

  send(clientId: string, message: RayletMessage): boolean {
    const client = this.clients.get(clientId);
    if (!client) return false;
    client.conn.send(message);
    return true;
  }

  /** Sends to every driver of the job connected here. */
  toDrivers(jobId: string, message: RayletMessage): void {
    for (const c of this.clients.values()) if (c.role === 'driver' && c.jobId === jobId) c.conn.send(message);
  }

  /** Asks these clients to collect garbage, so values nobody references release their pins. */
  requestGc(clientIds: Iterable<string>): void {
    for (const id of clientIds) this.clients.get(id)?.conn.send({ type: 'gc' });
  }

  /** Asks a local owner about its object; undefined when the owner is not (or no longer) connected. */
  askOwner(clientId: string, objectId: string): Promise<OwnedState | undefined> {
    const client = this.clients.get(clientId);
    if (!client) return Promise.resolve(undefined);
    const reqId = this.nextReqId++;
    return new Promise((resolve) => {
      this.ownerWaiters.set(reqId, { clientId, resolve });
      client.conn.send({ type: 'ownerLookup', reqId, objectId });
    });
  }

  ownerAnswered(reqId: number, state: OwnedState | undefined): void {
    const waiter = this.ownerWaiters.get(reqId);
    this.ownerWaiters.delete(reqId);
    waiter?.resolve(state);
  }

  /** Asks every client for its object references; clients that do not answer in time are left out. */
  async collectRefs(timeoutMs: number): Promise<ClientRefs[]> {
    const asks = [...this.clients.values()].map((client) => new Promise<ClientRefs | undefined>((resolve) => {
      const reqId = this.nextReqId++;
      const timer = setTimeout(() => { this.refsWaiters.delete(reqId); resolve(undefined); }, timeoutMs);
      this.refsWaiters.set(reqId, { timer, resolve: (refs) => resolve(refs && { client, refs }) });
      client.conn.send({ type: 'refsRequest', reqId });
    }));
    return (await Promise.all(asks)).filter((r): r is ClientRefs => !!r);
  }

  refsAnswered(reqId: number, refs: RefInfo[]): void {
    const waiter = this.refsWaiters.get(reqId);
    if (!waiter) return;
    this.refsWaiters.delete(reqId);
    clearTimeout(waiter.timer);
    waiter.resolve(refs);
  }

  /** Drops every connection and answers every waiting question (the raylet is stopping). */
  close(): void {
    for (const c of this.clients.values()) c.conn.socket.destroy();
    for (const w of this.refsWaiters.values()) { clearTimeout(w.timer); w.resolve(undefined); }
    this.refsWaiters.clear();
    for (const w of this.ownerWaiters.values()) w.resolve(undefined);
    this.ownerWaiters.clear();
  }
}
