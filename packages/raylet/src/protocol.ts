/** Types the raylet shares with the core worker's local protocol and the GCS protos. */
export type { BindJob, Execute, Leased, TaskOutcome, TaskSpec, ClientMessage, RayletMessage, Welcome, Address, SchedulingStrategy, RefInfo, OwnedState, TaskArg, TaskFailure, ActorCreation } from '@rayts/core-worker';
export type { ResourceDemand } from '@rayts/common';
