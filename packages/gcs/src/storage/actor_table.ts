/** Persistence of the actor table (migration 003). Every change is committed before the head answers. */
import { deserialize, serialize } from 'node:v8';
import type { Db } from './database.js';
import type { ActorSpecMsgOutput, TaskFailureMsgOutput } from '@rayts/common';

export const ACTOR_STATES = ['DEPENDENCIES_UNREADY', 'PENDING_CREATION', 'ALIVE', 'RESTARTING', 'DEAD'] as const;
export type ActorStateName = (typeof ACTOR_STATES)[number];
export type ActorDeathCause = 'KILLED' | 'WORKER_DIED' | 'NODE_DIED' | 'OWNER_DIED' | 'CREATION_FAILED' | 'UNSCHEDULABLE';

export interface ActorRecord {
  spec: ActorSpecMsgOutput;
  state: ActorStateName;
  version: number;
  nodeId: string;
  nodeIp: string;
  rayletPort: number;
  workerId: string;
  pid: number;
  socketPath: string;
  numRestarts: number;
  deathCause: ActorDeathCause | '';
  deathMessage: string;
  creationFailure?: TaskFailureMsgOutput;
  startTimeMs: number;
  endTimeMs: number;
  pendingReason: string;
}

export class ActorTable {
  private readonly upsertStmt;
  private readonly loadStmt;
  private readonly pruneStmt;

  constructor(db: Db, private readonly deadKept: number) {
    this.upsertStmt = db.prepare(`INSERT INTO actors (actor_id, job_id, name, namespace, detached, state, updated_ms, record)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (actor_id) DO UPDATE SET state = excluded.state, updated_ms = excluded.updated_ms, record = excluded.record`);
    this.loadStmt = db.prepare(`SELECT record FROM actors WHERE state != 'DEAD'
      UNION ALL SELECT record FROM (SELECT record FROM actors WHERE state = 'DEAD' ORDER BY updated_ms DESC LIMIT ?)`);
    this.pruneStmt = db.prepare(`DELETE FROM actors WHERE state = 'DEAD' AND actor_id NOT IN
      (SELECT actor_id FROM actors WHERE state = 'DEAD' ORDER BY updated_ms DESC LIMIT ?)`);
  }

  /** Throws SqliteError SQLITE_CONSTRAINT_UNIQUE when a live actor already has the name. */
  save(a: ActorRecord): void {
    const s = a.spec;
    this.upsertStmt.run(s.actorId, s.jobId, s.name, s.namespace, s.detached ? 1 : 0, a.state, Date.now(), serialize(a));
    if (a.state === 'DEAD') this.pruneStmt.run(this.deadKept);
  }

  /** Every actor that is not dead, and the most recently dead ones. */
  load(): ActorRecord[] {
    return (this.loadStmt.all(this.deadKept) as { record: Buffer }[]).map((r) => deserialize(r.record) as ActorRecord);
  }
}
