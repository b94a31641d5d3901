/** The raylet's ActorHostService (actor.proto): the head creates and kills actors here, other nodes call them. */
import * as grpc from '@grpc/grpc-js';
import { RpcError, raytsProto, unary, withRequestSchemas, type Logger } from '@rayts/common';
import { actorHostServiceSchemas } from './request_schemas.js';
import type { HostedActors } from './hosted_actors.js';
import type { RuntimeEnvs } from './jobs/runtime_envs.js';
import { outcomeToProto, specFromProto } from './task_proto.js';

export function addActorHostService(
  server: grpc.Server, nodeId: string, actors: Pick<HostedActors, 'create' | 'kill' | 'push'>, envs: Pick<RuntimeEnvs, 'forJob'>, logger: Logger,
): void {
  const service = raytsProto().ActorHostService.service;
  server.addService(service, withRequestSchemas(service, actorHostServiceSchemas, {
    CreateActor: unary(logger, 'CreateActor', async (req) => {
      if (!req.spec) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'spec is required');
      const spec = req.spec;
      // The job's runtime env first: the actor's worker is bound to it before it is leased.
      let env;
      try {
        env = await envs.forJob(spec.jobId);
      } catch (err) {
        const message = `the runtime env of job ${spec.jobId} could not be set up on node ${nodeId}: ${(err as Error).message}`;
        logger.warn('actor creation failed: runtime env setup', { actorId: spec.actorId, error: (err as Error).message });
        return { ok: false, workerId: '', pid: 0, socketPath: '', failure: { type: 'RUNTIME_ENV_SETUP_FAILED', errorName: 'RuntimeEnvSetupError', message } };
      }
      return actors.create(spec, req.numRestarts, env, req.classDescriptor.length > 0 ? req.classDescriptor : undefined);
    }),
    KillActorWorker: unary(logger, 'KillActorWorker', (req) => ({ found: actors.kill(req.actorId, req.reason.slice(0, 500) || 'killed') })),
    PushActorTask: unary(logger, 'PushActorTask', async (req) => {
      if (!req.task) throw new RpcError(grpc.status.INVALID_ARGUMENT, 'task is required');
      const outcome = await actors.push(req.actorId, specFromProto(req.task));
      return outcomeToProto({ ...outcome, nodeId: outcome.nodeId || nodeId });
    }),
  }));
}
