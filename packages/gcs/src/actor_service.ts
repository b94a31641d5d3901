/** gRPC handlers of the head's ActorService: validate every field, then hand over to the actor manager. */
import * as grpc from '@grpc/grpc-js';
import { RpcError, raytsProto, require, unary, withRequestSchemas, type ActorSpecMsgOutput, type Config, type Logger } from '@rayts/common';
import { actorServiceSchemas } from './request_schemas.js';
import { actorInfo, type ActorManager } from './actor_manager.js';
import { NameTakenError } from './errors.js';

const MAX_NAME = 256;

export function addActorService(server: grpc.Server, actors: ActorManager, config: Pick<Config, 'longPollMaxWaitMs'>, logger: Logger): void {
  const service = raytsProto().ActorService.service;
  server.addService(service, withRequestSchemas(service, actorServiceSchemas, {
    RegisterActor: unary(logger, 'RegisterActor', (req) => {
      try {
        return { actor: actorInfo(actors.register(req.spec!)) };
      } catch (err) {
        if (err instanceof NameTakenError) throw new RpcError(grpc.status.ALREADY_EXISTS, err.message);
        throw err;
      }
    }),
    GetActor: unary(logger, 'GetActor', async (req) => {
      const a = await actors.waitNewer(req.actorId, Number(req.minVersion), Math.min(req.waitMs, config.longPollMaxWaitMs));
      if (!a) throw new RpcError(grpc.status.NOT_FOUND, `the head knows no actor ${req.actorId}`);
      return actorInfo(a);
    }),
    GetNamedActor: unary(logger, 'GetNamedActor', (req) => {
      require(req.name.length > 0 && req.name.length <= MAX_NAME, 'name is required');
      const a = actors.named(req.name, req.namespace);
      if (!a) {
        throw new RpcError(grpc.status.NOT_FOUND, `no live actor is named '${req.name}' in namespace '${req.namespace}'`
          + ' (it was never created, or it died or was killed)');
      }
      return actorInfo(a);
    }),
    KillActor: unary(logger, 'KillActor', (req) => {
      if (!actors.kill(req.actorId, req.noRestart)) throw new RpcError(grpc.status.NOT_FOUND, `the head knows no actor ${req.actorId}`);
      return {};
    }),
    ListActors: unary(logger, 'ListActors', (req) => ({ actors: actors.list(req.includeDead).map(actorInfo) })),
    ReportActorDeath: unary(logger, 'ReportActorDeath', (req) => {
      actors.onWorkerDied(req.actorId, req.workerId, req.reason.slice(0, 1000));
      return {};
    }),
  }));
}
