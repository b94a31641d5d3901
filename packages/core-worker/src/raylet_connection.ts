/**
 * A process's link to its node's raylet (the local socket): the hello/welcome handshake, requests
 * with typed replies, one-way messages, and the messages the raylet pushes (results, tasks to run,
 * lookups).
 *
 * Sending works from the welcome on: every part of the core worker that talks to the raylet is built
 * with the connection. What the raylet pushes goes to an inbox that routes to those parts, so it is
 * given last, by `start`. Until then pushed messages wait in order (the raylet may send a task in
 * the same packet as the welcome); replies are matched from the start.
 */
import type { EventEmitter } from 'node:events';
import { connectFramed } from '@rayts/common';
import type {
  ActorReady, BindJob, ClientHello, ClientMessage, ClientRequest, CreateActor, Execute, Leased, LeaseGranted, LeaseLost, LeaseRejected, LogLines, OwnerLookup,
  RayletMessage, Reply, ReplyTo, RefsRequest, RequestBody, RequestType, TaskOutcome, Welcome,
} from './protocol/messages.js';

/**
 * A message stream to the raylet: the node's local socket (FramedConnection), or a remote client's
 * tunnel through the head (remote/tunnel_client.ts).
 */
export interface MessageLink<In, Out> extends EventEmitter<{ message: [In]; close: [Error | undefined] }> {
  send(message: Out): void;
  close(): void;
}

type Framed = MessageLink<RayletMessage, ClientMessage>;

/** Where the messages the raylet pushes go. */
export interface RayletInbox {
  taskResult(outcome: TaskOutcome): void;
  bindJob(message: BindJob): void;
  execute(message: Execute): void;
  createActor(message: CreateActor): void;
  actorReady(message: ActorReady): void;
  logs(message: LogLines): void;
  collectGarbage(): void;
  ownerLookup(message: OwnerLookup): void;
  refsRequest(message: RefsRequest): void;
  /** Answers to this owner's lease requests (direct/direct_submitter.ts). */
  leaseGranted(message: LeaseGranted): void;
  leaseRejected(message: LeaseRejected): void;
  leaseLost(message: LeaseLost): void;
  /** This worker was leased to an owner (direct/lease_server.ts). */
  leased(message: Leased): void;
  /** The connection closed (the node is going away); pending requests have been rejected. */
  closed(err?: Error): void;
}

/** Sending to the raylet: what the parts of a core worker are built with. */
export interface RayletTransport {
  send(message: ClientMessage): void;
  request<K extends RequestType>(message: RequestBody<K>): Promise<ReplyTo<K>>;
}

export class RayletConnection implements RayletTransport {
  private nextReqId = 1;
  private readonly replies = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  /** Pushed messages that arrived before the receiver took over, in order. */
  private early: RayletMessage[] | undefined = [];
  private readonly buffer = (m: RayletMessage) => (m.type === 'reply' ? this.settle(m) : this.early?.push(m));

  private constructor(private readonly framed: Framed, readonly welcome: Welcome) {
    framed.on('message', this.buffer);
    framed.once('close', (err) => this.failPending(err));
  }

  /** Connects (to the node's socket, or over a link given), says hello and waits for the welcome (a refusal rejects). */
  static async open(to: string | Framed, hello: ClientHello): Promise<RayletConnection> {
    const framed: Framed = typeof to === 'string' ? await connectFramed<RayletMessage, ClientMessage>(to) : to;
    const early: RayletMessage[] = [];
    const welcome = await new Promise<Welcome>((resolve, reject) => {
      // One listener from the start: messages after the welcome (same packet) must not be lost.
      framed.on('message', (m) => {
        if (m.type === 'welcome') resolve(m);
        else if (m.type === 'refused') reject(new Error(`the raylet refused this ${hello.role}: ${m.reason}`));
        else early.push(m);
      });
      framed.once('close', (err) => reject(err ?? new Error('the raylet closed the connection')));
      framed.send(hello);
    }).catch((err: Error) => {
      framed.close();
      throw err;
    });
    framed.removeAllListeners('message');
    const connection = new RayletConnection(framed, welcome);
    for (const m of early) connection.buffer(m);
    return connection;
  }

  send(message: ClientMessage): void {
    this.framed.send(message);
  }

  request<K extends RequestType>(message: RequestBody<K>): Promise<ReplyTo<K>> {
    const reqId = this.nextReqId++;
    return new Promise((resolve, reject) => {
      this.replies.set(reqId, { resolve: resolve as (r: Reply) => void, reject });
      this.framed.send({ ...message, reqId } as ClientRequest);
    });
  }

  close(): void {
    this.framed.close();
  }

  /**
   * Starts delivering pushed messages to `inbox`, those that came earlier first. Called once, last,
   * by the factory that built the inbox's parts with this connection (as a server starts after its
   * services are registered).
   */
  start(inbox: RayletInbox): void {
    if (!this.early) throw new Error('the raylet connection is started already');
    const early = this.early;
    this.early = undefined;
    this.framed.off('message', this.buffer);
    this.framed.on('message', (m) => (m.type === 'reply' ? this.settle(m) : dispatch(inbox, m)));
    this.framed.once('close', (err) => inbox.closed(err));
    for (const m of early) dispatch(inbox, m);
  }

  private settle(reply: Reply): void {
    const waiter = this.replies.get(reply.reqId);
    this.replies.delete(reply.reqId);
    waiter?.resolve(reply);
  }

  private failPending(cause?: Error): void {
    for (const r of this.replies.values()) r.reject(cause ?? new Error('the raylet connection closed'));
    this.replies.clear();
  }
}

function dispatch(inbox: RayletInbox, m: RayletMessage): void {
  switch (m.type) {
    case 'taskResult': return inbox.taskResult(m.outcome);
    case 'bindJob': return inbox.bindJob(m);
    case 'execute': return inbox.execute(m);
    case 'createActor': return inbox.createActor(m);
    case 'actorReady': return inbox.actorReady(m);
    case 'logs': return inbox.logs(m);
    case 'gc': return inbox.collectGarbage();
    case 'ownerLookup': return inbox.ownerLookup(m);
    case 'refsRequest': return inbox.refsRequest(m);
    case 'leaseGranted': return inbox.leaseGranted(m);
    case 'leaseRejected': return inbox.leaseRejected(m);
    case 'leaseLost': return inbox.leaseLost(m);
    case 'leased': return inbox.leased(m);
    default: return undefined; // welcome/refused only come once, during open
  }
}
