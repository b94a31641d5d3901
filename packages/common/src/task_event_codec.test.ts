import { describe, expect, it } from 'vitest';
import { TaskEventsFormatError } from './errors.js';
import { TaskEventsEncoder, encodeTaskEvents, type AttemptEvents, type TaskInfo } from './task_event_codec.js';
import { decodeTaskEvents } from './task_event_reader.js';

const TASK = (n: number) => `${'ab'.repeat(20)}${String(n).padStart(16, '0')}`;
const NODE = 'c'.repeat(56);
const INFO: TaskInfo = {
  name: 'square', funcOrClassName: 'square', type: 'NORMAL_TASK', parentTaskId: 'd'.repeat(56), actorId: '', placementGroupId: '',
  requiredResources: { CPU: 1, 'CPU_group_0_pg': 0.5 },
};

function attempt(n: number, extra: Partial<AttemptEvents> = {}): AttemptEvents {
  return {
    taskId: TASK(n), attemptNumber: n % 3, jobId: '00000001', info: INFO,
    transitions: [{ state: 'PENDING_ARGS_AVAIL', timeMs: 1_700_000_000_000 + n }, { state: 'FINISHED', timeMs: 1_700_000_000_005 + n }],
    nodeId: NODE, workerId: 'e'.repeat(28), workerPid: 4242, errorType: '', errorMessage: '', ...extra,
  };
}

describe('task event codec', () => {
  it('round-trips attempts, with errors, logs, and names in any script', () => {
    const list = [
      attempt(1),
      attempt(2, { info: undefined, errorType: 'TASK_EXECUTION_EXCEPTION', errorMessage: 'RangeError: x must be ≥ 0 — got -1' }),
      attempt(3, { log: { stdoutStart: 0, stdoutEnd: 17, stderrStart: -1, stderrEnd: -1 }, info: { ...INFO, name: 'квадрат' } }),
      attempt(4, { transitions: [], nodeId: '', workerId: '', workerPid: 0 }),
    ];
    const decoded = decodeTaskEvents(encodeTaskEvents(list));
    expect(decoded).toEqual(list.map((a) => ({ ...a, info: a.info, log: a.log })));
  });

  it('writes a shared info and repeated strings once, and the decoded attempts share them', () => {
    const list = Array.from({ length: 100 }, (_, i) => attempt(i));
    const bytes = encodeTaskEvents(list);
    // The parent task id (56 characters) and node id appear once in the bytes.
    expect(bytes.toString('latin1').split('d'.repeat(56)).length - 1).toBe(1);
    expect(bytes.toString('latin1').split(NODE).length - 1).toBe(1);
    const decoded = decodeTaskEvents(bytes);
    expect(decoded[0]!.info).toBe(decoded[99]!.info);
    expect(decoded[7]!.info).toEqual(INFO);
  });

  it('an encoder fed one scratch object again and again writes what it held each time', () => {
    const encoder = new TaskEventsEncoder();
    const scratch = attempt(0);
    for (let i = 0; i < 3; i++) {
      scratch.taskId = TASK(i);
      scratch.transitions[0]!.timeMs = 1_700_000_000_000 + i;
      encoder.add(scratch);
    }
    expect(encoder.count).toBe(3);
    const decoded = decodeTaskEvents(encoder.finish());
    expect(decoded.map((a) => [a.taskId, a.transitions[0]!.timeMs])).toEqual([0, 1, 2].map((i) => [TASK(i), 1_700_000_000_000 + i]));
  });

  it('empty input is an empty report (a report that only carries the dropped count)', () => {
    expect(decodeTaskEvents(Buffer.alloc(0))).toEqual([]);
  });

  it('every truncation of valid input is a TaskEventsFormatError, never another exception', () => {
    const bytes = encodeTaskEvents([attempt(1), attempt(2, { errorType: 'WORKER_DIED', errorMessage: 'gone', log: { stdoutStart: 1, stdoutEnd: 2, stderrStart: 3, stderrEnd: 4 } })]);
    for (let n = 1; n < bytes.length; n++) {
      expect(() => decodeTaskEvents(bytes.subarray(0, n)), `cut at ${n}`).toThrow(TaskEventsFormatError);
    }
  });

  it('random garbage is refused as malformed, never another exception', () => {
    let seed = 7;
    const random = () => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed; };
    const valid = encodeTaskEvents([attempt(1), attempt(2)]);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(valid);
      // Flip a few bytes of a valid batch, or make a random one.
      if (i % 2) for (let k = 0; k < 3; k++) bytes[random() % bytes.length] = random() % 256;
      const input = i % 2 ? bytes : Buffer.from(Array.from({ length: random() % 64 }, () => random() % 256));
      try {
        decodeTaskEvents(input);
      } catch (err) {
        expect(err).toBeInstanceOf(TaskEventsFormatError);
      }
    }
  });

  it('names what is wrong: version, state, string reference, trailing bytes', () => {
    const bytes = encodeTaskEvents([attempt(1)]);
    const version = Buffer.from(bytes);
    version[0] = 9;
    expect(() => decodeTaskEvents(version)).toThrow(/format version is 9; this head reads version 1/);
    expect(() => decodeTaskEvents(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/followed by 1 more bytes/);
    // By hand: version 1, no strings, no infos, one attempt (empty task id, attempt 0) whose job id is string 5.
    const w = [1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0];
    expect(() => decodeTaskEvents(Buffer.from(w))).toThrow(/attempt 0: job id refers to string 5; there are 0/);
    // A count far beyond what the bytes hold ends early where the bytes do.
    const many = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0x42, 0x0f, 0];
    expect(() => decodeTaskEvents(Buffer.from(many))).toThrow(/attempt 0: task id at byte 13 needs 2 bytes, 0 are left/);
  });
});
