/**
 * The compact form of task events on the wire (AddTaskEventsRequest.events). A cluster's drivers and
 * workers report several thousand attempts a second; protobufjs spends ~10 µs building and encoding
 * one attempt as nested messages (and as much decoding it), which cost tens of percent of
 * single_client_tasks_async on two cores. This layout costs a few microseconds per attempt each way:
 * strings that repeat across attempts (job, node, worker, names, parent task) and what a task is
 * (TaskInfo, shared by the tasks of one function) are written once per batch and referred to by index.
 * The reader (task_event_reader.ts) reads a batch in place, making no object per attempt, and checks
 * every length and index against what it has: truncated or malformed input is a TaskEventsFormatError
 * naming the place, never an exception of another kind.
 *
 * Layout (little-endian; str = u16 byte length + UTF-8 bytes; ref = u32 index into the string table):
 *
 *   u8 version (1)
 *   u32 string count, the strings (str each)
 *   u32 info count, per info: ref name, ref function or class name, u8 type (index in TASK_TYPES),
 *       ref parent task id, ref actor id, ref placement group id, u8 resource count,
 *       per resource: ref name, f64 amount
 *   u32 attempt count, per attempt:
 *     str task id, u32 attempt number, ref job id,
 *     u8 flags (1 = info, 2 = error, 4 = log),
 *     u8 transition count, per transition: u8 state (index in TASK_STATES), f64 time (ms since the epoch),
 *     ref node id, ref worker id, u32 worker pid,
 *     info:  u32 index into the infos
 *     error: ref error type, str error message
 *     log:   f64 stdout start, f64 stdout end, f64 stderr start, f64 stderr end (-1 = unknown)
 *
 * The reader checks only the structure; what the values may be (ids, times, sizes) is the head's to
 * check (task_event_service.ts).
 */
import { TASK_STATES, TASK_TYPES, type TaskState, type TaskType } from './task_events.js';

/** What a task is, as its owner (or an actor's host, for its creation) reports it. */
export interface TaskInfo {
  name: string;
  funcOrClassName: string;
  type: TaskType;
  parentTaskId: string;
  actorId: string;
  placementGroupId: string;
  requiredResources: Record<string, number>;
}

/**
 * One process's report about one task attempt (the unit of AddTaskEvents). Empty strings, a 0 pid
 * and -1 offsets mean "this report does not say".
 */
export interface AttemptEvents {
  taskId: string;
  attemptNumber: number;
  jobId: string;
  /** Decoded infos are shared by the attempts of a batch that had the same one: treat them as read-only. */
  info?: TaskInfo;
  /** States reached, each with its time (ms since the epoch, on the reporter's clock). */
  transitions: { state: TaskState; timeMs: number }[];
  nodeId: string;
  workerId: string;
  workerPid: number;
  /** With FAILED: Ray's error type and the message. */
  errorType: string;
  errorMessage: string;
  /** Byte offsets in the worker's log files (worker-<workerId>-<workerPid>.out / .err). */
  log?: { stdoutStart: number; stdoutEnd: number; stderrStart: number; stderrEnd: number };
}

/** The format's version byte and attempt flags (task_event_reader.ts reads what this file writes). */
export const TASK_EVENTS_FORMAT = { version: 1, flagInfo: 1, flagError: 2, flagLog: 4 } as const;
const VERSION = TASK_EVENTS_FORMAT.version;
const FLAG_INFO = TASK_EVENTS_FORMAT.flagInfo;
const FLAG_ERROR = TASK_EVENTS_FORMAT.flagError;
const FLAG_LOG = TASK_EVENTS_FORMAT.flagLog;
/** Longer strings are cut by the writer (a str's length is a u16). */
export const MAX_ENCODED_STRING_CHARS = 16_384;
const STATE_CODE: Record<string, number> = Object.fromEntries(TASK_STATES.map((s, i) => [s, i]));
const TYPE_CODE: Record<string, number> = Object.fromEntries(TASK_TYPES.map((t, i) => [t, i]));

class Writer {
  private buf = Buffer.allocUnsafe(16 * 1024);
  /** Writes doubles in place (Buffer's writeDoubleLE goes through a scratch array byte by byte). */
  private view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  private pos = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    const at = this.pos;
    buf[at] = v & 0xff;
    buf[at + 1] = (v >>> 8) & 0xff;
    buf[at + 2] = (v >>> 16) & 0xff;
    buf[at + 3] = (v >>> 24) & 0xff;
    this.pos += 4;
  }

  f64(v: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  str(s: string): void {
    const text = s.length > MAX_ENCODED_STRING_CHARS ? s.slice(0, MAX_ENCODED_STRING_CHARS) : s;
    this.ensure(2 + text.length * 3);
    const buf = this.buf;
    const at = this.pos + 2;
    // Ids and names are short ASCII: copied here, a native call per string costs more than the copy.
    let i = 0;
    if (text.length <= 128) {
      for (; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c > 127) break;
        buf[at + i] = c;
      }
    }
    const n = i === text.length ? i : buf.write(text, at, 'utf8');
    buf[this.pos] = n & 0xff;
    buf[this.pos + 1] = n >>> 8;
    this.pos += 2 + n;
  }

  /** Appends `other`'s bytes. */
  append(other: Writer): void {
    this.ensure(other.pos);
    other.buf.copy(this.buf, this.pos, 0, other.pos);
    this.pos += other.pos;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** The batch's string table while it is written. */
class Strings {
  private readonly index = new Map<string, number>();
  readonly list: string[] = [];
  /** The last strings looked up and their indexes: consecutive attempts mostly repeat them (job, node, worker). */
  private readonly recent: string[] = ['', '', '', ''];
  private readonly recentIndex = [-1, -1, -1, -1];
  private next = 0;

  ref(s: string): number {
    const recent = this.recent;
    for (let k = 0; k < 4; k++) if (recent[k] === s && this.recentIndex[k]! >= 0) return this.recentIndex[k]!;
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.index.set(s, i);
      this.list.push(s);
    }
    recent[this.next] = s;
    this.recentIndex[this.next] = i;
    this.next = (this.next + 1) & 3;
    return i;
  }
}

/**
 * Writes attempts one at a time: `add` copies what it needs at once, so a caller may pass the same
 * scratch object again and again (the core worker does, and makes no object per attempt).
 */
export class TaskEventsEncoder {
  private readonly strings = new Strings();
  private readonly infoIndex = new Map<TaskInfo, number>();
  private readonly infos = new Writer();
  private readonly body = new Writer();
  private n = 0;

  /** Attempts added so far. */
  get count(): number {
    return this.n;
  }

  add(a: AttemptEvents): void {
    const { body, strings } = this;
    this.n += 1;
    body.str(a.taskId);
    body.u32(a.attemptNumber);
    body.u32(strings.ref(a.jobId));
    const error = a.errorType !== '' || a.errorMessage !== '';
    body.u8((a.info ? FLAG_INFO : 0) | (error ? FLAG_ERROR : 0) | (a.log ? FLAG_LOG : 0));
    const n = Math.min(a.transitions.length, 255);
    body.u8(n);
    for (let j = a.transitions.length - n; j < a.transitions.length; j++) {
      const t = a.transitions[j]!;
      body.u8(STATE_CODE[t.state] ?? 0);
      body.f64(t.timeMs);
    }
    body.u32(strings.ref(a.nodeId));
    body.u32(strings.ref(a.workerId));
    body.u32(a.workerPid);
    if (a.info) {
      // Shared info objects (the tasks of one function) are written once.
      let i = this.infoIndex.get(a.info);
      if (i === undefined) {
        i = this.infoIndex.size;
        this.infoIndex.set(a.info, i);
        writeInfo(this.infos, strings, a.info);
      }
      body.u32(i);
    }
    if (error) {
      body.u32(strings.ref(a.errorType));
      body.str(a.errorMessage);
    }
    if (a.log) {
      body.f64(a.log.stdoutStart);
      body.f64(a.log.stdoutEnd);
      body.f64(a.log.stderrStart);
      body.f64(a.log.stderrEnd);
    }
  }

  /** The encoded batch (the encoder is spent). */
  finish(): Buffer {
    const out = new Writer();
    out.u8(VERSION);
    out.u32(this.strings.list.length);
    for (const s of this.strings.list) out.str(s);
    out.u32(this.infoIndex.size);
    out.append(this.infos);
    out.u32(this.n);
    out.append(this.body);
    return out.done();
  }
}

export function encodeTaskEvents(attempts: readonly AttemptEvents[]): Buffer {
  const encoder = new TaskEventsEncoder();
  for (const a of attempts) encoder.add(a);
  return encoder.finish();
}

function writeInfo(w: Writer, strings: Strings, info: TaskInfo): void {
  w.u32(strings.ref(info.name));
  w.u32(strings.ref(info.funcOrClassName));
  w.u8(TYPE_CODE[info.type] ?? 0);
  w.u32(strings.ref(info.parentTaskId));
  w.u32(strings.ref(info.actorId));
  w.u32(strings.ref(info.placementGroupId));
  const resources = Object.entries(info.requiredResources).slice(0, 255);
  w.u8(resources.length);
  for (const [name, amount] of resources) {
    w.u32(strings.ref(name));
    w.f64(amount);
  }
}
