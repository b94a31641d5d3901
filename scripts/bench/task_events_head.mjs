#!/usr/bin/env node
// What storing task events costs the head, in-process (no cluster): batches of 2,000 attempts as a
// driver reports them (what the task is, five states, worker, log offsets; task ids as core workers
// mint them), checked (parseAddTaskEvents, unknownJobReport) and stored (TaskEventStore.addBatch,
// the default bound of 100,000, so evictions run too), CPU µs per attempt for each step. A benchmark,
// not a test: nothing is asserted.
//   node scripts/bench/task_events_head.mjs [--batches N] [--rounds N]
// Build first (`npx tsc -b`).
import { encodeTaskEvents } from '@rayts/common';
import { optionOf } from './lib.mjs';
import { parseAddTaskEvents, unknownJobReport } from '../../packages/gcs/dist/task_events/task_event_service.js';
import { TaskEventStore } from '../../packages/gcs/dist/task_events/task_event_store.js';

const argv = process.argv.slice(2);
const batches = Number(optionOf(argv, '--batches', '100'));
const rounds = Number(optionOf(argv, '--rounds', '5'));
const PER_BATCH = 2000;
const PREFIX = 'f3a9c0de'.repeat(4);
let counter = 0;
const info = { name: 'noop', funcOrClassName: 'noop', type: 'NORMAL_TASK', parentTaskId: `${PREFIX}01${'0'.repeat(22)}`, actorId: '', placementGroupId: '', requiredResources: { CPU: 1 } };

function batch() {
  const t = Date.now();
  return encodeTaskEvents(Array.from({ length: PER_BATCH }, () => ({
    taskId: `${PREFIX}01${(++counter).toString(16).padStart(22, '0')}`, attemptNumber: 0, jobId: '01000000', info,
    transitions: [['PENDING_ARGS_AVAIL', t], ['PENDING_NODE_ASSIGNMENT', t], ['SUBMITTED_TO_WORKER', t + 1], ['RUNNING', t + 1], ['FINISHED', t + 2]].map(([state, timeMs]) => ({ state, timeMs })),
    nodeId: 'c'.repeat(56), workerId: 'e'.repeat(28), workerPid: 4242, errorType: '', errorMessage: '',
    log: { stdoutStart: 100, stdoutEnd: 100, stderrStart: 0, stderrEnd: 0 },
  })));
}

const cpu = () => { const u = process.cpuUsage(); return u.user + u.system; };
const store = new TaskEventStore({ maxStored: 100_000 });
const jobs = { get: () => ({}) };
console.log(`${batches} batches of ${PER_BATCH} attempts (${Math.round(batch().length / PER_BATCH)} bytes an attempt) per round`);
for (let round = 0; round < rounds; round++) {
  const input = Array.from({ length: batches }, batch);
  const spent = { check: 0, jobs: 0, store: 0 };
  for (const events of input) {
    let t = cpu();
    const { batch: view, numDropped } = parseAddTaskEvents({ events, numDropped: 0 });
    let u = cpu(); spent.check += u - t; t = u;
    unknownJobReport(view, jobs);
    u = cpu(); spent.jobs += u - t; t = u;
    store.addBatch(view, numDropped);
    spent.store += cpu() - t;
  }
  const n = batches * PER_BATCH;
  const per = (us) => (us / n).toFixed(2);
  console.log(`round ${round + 1}: CPU µs per attempt: check ${per(spent.check)}, jobs ${per(spent.jobs)}, store ${per(spent.store)}, total ${per(spent.check + spent.jobs + spent.store)}; stored ${store.stats().stored}`);
}
