import { describe, expect, it } from 'vitest';
import { summarizeActors, summarizeObjects, summarizeTasks } from './summary.js';

describe('summaries', () => {
  it('counts each task once, by its latest attempt, per function and type; dropped events are shown', () => {
    const rows = [
      { task_id: 'a', attempt_number: 0, state: 'FAILED', type: 'NORMAL_TASK', func_or_class_name: 'f' },
      { task_id: 'a', attempt_number: 1, state: 'FINISHED', type: 'NORMAL_TASK', func_or_class_name: 'f' },
      { task_id: 'b', attempt_number: 0, state: 'FAILED', type: 'NORMAL_TASK', func_or_class_name: 'f' },
      { task_id: 'c', attempt_number: 0, state: 'FINISHED', type: 'ACTOR_TASK', func_or_class_name: 'C.m' },
      { task_id: 'd', attempt_number: 0, state: 'FINISHED', type: 'ACTOR_CREATION_TASK', func_or_class_name: 'C.__init__' },
    ];
    const s = summarizeTasks(rows, { stored: 5, droppedAtWorkers: 3, evictedAtGcs: 0 });
    expect(s.stats).toMatchObject({ total_tasks: 2, total_actor_tasks: 1, total_actor_scheduled: 1, num_task_events_dropped_at_workers: 3 });
    expect(s.groups).toContainEqual({ func_or_class_name: 'f', type: 'NORMAL_TASK', state_counts: { FINISHED: 1, FAILED: 1 } });
    expect(s.warnings.join()).toMatch(/3 task events were dropped/);
    expect(summarizeTasks(rows, { stored: 5, droppedAtWorkers: 0, evictedAtGcs: 0 }).warnings).toEqual([]);
  });

  it('groups actors by class and objects by call site', () => {
    const actors = summarizeActors([{ class_name: 'A', state: 'ALIVE' }, { class_name: 'A', state: 'DEAD' }, { class_name: 'B', state: 'ALIVE' }]);
    expect(actors.groups).toEqual([{ class_name: 'A', state_counts: { ALIVE: 1, DEAD: 1 } }, { class_name: 'B', state_counts: { ALIVE: 1 } }]);
    const objects = summarizeObjects([
      { call_site: 'x.js:1', object_size: 1024 * 1024, ip: '1', pid: 1, node_id: 'n', task_status: 'FINISHED', reference_type: 'LOCAL_REFERENCE' },
      { call_site: 'x.js:1', object_size: 1024 * 1024, ip: '1', pid: 2, node_id: 'n', task_status: 'FINISHED', reference_type: 'LOCAL_REFERENCE' },
    ]);
    expect(objects.stats).toMatchObject({ total_objects: 2, total_size_mb: 2 });
    expect(objects.groups[0]).toMatchObject({ call_site: 'x.js:1', total_objects: 2, total_num_workers: 2, total_num_nodes: 1, ref_type_counts: { LOCAL_REFERENCE: 2 } });
  });
});
