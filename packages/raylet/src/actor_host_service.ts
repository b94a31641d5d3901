/** The raylet's ActorHostService (actor.proto): the head creates and kills actors here, other nodes call them. */
import * as grpc from '@grpc/grpc-js';
import { RpcError, raytsProto, unary, type Logger } from '@rayts/common';
import type { HostedActors } from './hosted_actors.js';
import { outcomeToProto, specFromProto } from './task_proto.js';

export function addActorHostService(server: grpc.Server, nodeId: string, actors: Pick<HostedActors, 'create' | 'kill' | 'push'>, logger: Logger): void {
  server.addService(raytsProto().ActorHostService.service, {
    CreateActor: unary(logger, 'CreateActor', async (req) => {
      if (!req.spec) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'spec is required');
      return actors.create(req.spec, req.numRestarts, req.classDescriptor.length > 0 ? req.classDescriptor : undefined);
    }),
    KillActorWorker: unary(logger, 'KillActorWorker', (req) => ({ found: actors.kill(req.actorId, req.reason.slice(0, 500) || 'killed') })),
    PushActorTask: unary(logger, 'PushActorTask', async (req) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'task is required');
      const outcome = await actors.push(req.actorId, specFromProto(req.task));
      return outcomeToProto({ ...outcome, nodeId: outcome.nodeId || nodeId });
    }),
  });
}
