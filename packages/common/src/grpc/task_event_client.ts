/** Typed client of the head's TaskEventService: core workers report task events, readers ask for the stored attempts. */
import { raytsProto } from './proto.js';
import { makeClient, unaryCall, type ClientOptions } from './client.js';
import type { TaskEventServiceClient } from '../generated/rayts/v1/TaskEventService.js';
import type { AddTaskEventsRequest } from '../generated/rayts/v1/AddTaskEventsRequest.js';
import type { GetTaskEventsRequest } from '../generated/rayts/v1/GetTaskEventsRequest.js';
import type { GetTaskEventsReply__Output } from '../generated/rayts/v1/GetTaskEventsReply.js';

export class TaskEventClient {
  private readonly client: TaskEventServiceClient;

  constructor(readonly address: string, private readonly options: ClientOptions) {
    // Reports go on when the head is away; their failures must not delay the process's other calls to it.
    this.client = makeClient(raytsProto().TaskEventService, address, { ...options, ownConnection: true });
  }

  /** Rejects with InvalidRequestError when the head refuses the batch (retrying it would not help). */
  async addTaskEvents(request: AddTaskEventsRequest, timeoutMs = this.options.timeoutMs): Promise<void> {
    await unaryCall((md, o, cb) => this.client.AddTaskEvents(request, md, o, cb), timeoutMs, this.address, 'head');
  }

  getTaskEvents(request: GetTaskEventsRequest = {}): Promise<GetTaskEventsReply__Output> {
    return unaryCall((md, o, cb) => this.client.GetTaskEvents(request, md, o, cb), this.options.timeoutMs, this.address, 'head');
  }

  close(): void {
    this.client.close();
  }
}
