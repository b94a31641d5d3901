/**
 * Reading the compact form of task events (task_event_codec.ts writes it and describes the layout).
 *
 * `TaskEventsView.read` checks a batch's whole structure (every length, index, state and flag) and
 * then reads its attempts in place: it decodes the batch's string table and infos (a few per batch,
 * shared by its attempts) and notes where each attempt's record starts, nothing more. So the head
 * stores a batch of thousands of attempts without making an object or a string per attempt; the
 * accessors read single fields, and `attempt(k)` makes the record of one attempt when someone wants
 * it as an object. Truncated or malformed input is a TaskEventsFormatError naming the place, never
 * an exception of another kind.
 */
import { TaskEventsFormatError } from './errors.js';
import { TASK_EVENTS_FORMAT, type AttemptEvents, type TaskInfo } from './task_event_codec.js';
import { TASK_STATES, TASK_TYPES } from './task_events.js';

const { version: VERSION, flagInfo: FLAG_INFO, flagError: FLAG_ERROR, flagLog: FLAG_LOG } = TASK_EVENTS_FORMAT;
/** What the reader accepts at most (the head's limits are tighter). */
const MAX_COUNT = 1_000_000;
/** Bytes of the smallest attempt record: str length, attempt number, job, flags, transition count, node, worker, pid. */
const MIN_ATTEMPT_BYTES = 2 + 4 + 4 + 1 + 1 + 4 + 4 + 4;
/** Bytes of one transition: u8 state, f64 time. */
const TRANSITION = 9;

class Reader {
  pos = 0;
  /** Where the reader is, for error messages (kept as parts: messages are built only on an error). */
  section = '';
  item = -1;

  constructor(private readonly buf: Buffer) {}

  fail(what: string, problem: string): never {
    throw new TaskEventsFormatError(`${this.section}${this.item >= 0 ? ` ${this.item}` : ''}: ${what} ${problem}`);
  }

  need(n: number, what: string): void {
    if (this.pos + n > this.buf.length) this.fail(what, `at byte ${this.pos} needs ${n} bytes, ${this.buf.length - this.pos} are left (the events end early)`);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++]!;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  count(what: string): number {
    const n = this.u32(what);
    if (n > MAX_COUNT) this.fail(what, `is ${n}, more than ${MAX_COUNT}`);
    return n;
  }

  f64(what: string): number {
    this.need(8, what);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Passes over a str; returns where its bytes start. */
  skipStr(what: string): number {
    this.need(2, what);
    const n = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    this.need(n, what);
    const at = this.pos;
    this.pos += n;
    return at;
  }

  str(what: string): string {
    const at = this.skipStr(what);
    return this.buf.toString('utf8', at, this.pos);
  }

  /** A string-table index below `n`. */
  ref(what: string, n: number): number {
    const i = this.u32(what);
    if (i >= n) this.fail(what, `refers to string ${i}; there are ${n}`);
    return i;
  }

  end(): void {
    if (this.pos !== this.buf.length) this.fail('the last attempt', `is followed by ${this.buf.length - this.pos} more bytes`);
  }
}

/** A checked batch of encoded attempts, read in place (see above). Attempt `k` is 0..count-1. */
export class TaskEventsView {
  /** The attempts' records: where each one's task id bytes start, what follows them, and the part after the transitions. */
  private readonly idAt: Uint32Array;
  private readonly fieldsAt: Uint32Array;
  private readonly restAt: Uint32Array;
  private readonly flagsOf: Uint8Array;
  /** Reads numbers at any offset (Buffer's readDoubleLE copies byte by byte; a DataView's reads are compiled inline). */
  private readonly data: DataView;

  /** `count`: attempts in the batch; `room`: how many the arrays hold (a batch is checked to have room for all). */
  private constructor(readonly bytes: Buffer, readonly strings: readonly string[], readonly infos: readonly TaskInfo[], readonly count: number, room: number) {
    this.idAt = new Uint32Array(room);
    this.fieldsAt = new Uint32Array(room);
    this.restAt = new Uint32Array(room);
    this.flagsOf = new Uint8Array(room);
    this.data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }


  /** Checks the structure of `bytes` (an empty buffer is an empty batch); throws TaskEventsFormatError. */
  static read(bytes: Buffer): TaskEventsView {
    if (bytes.length === 0) return new TaskEventsView(bytes, [], [], 0, 0);
    const r = new Reader(bytes);
    r.section = 'header';
    const version = r.u8('format version');
    if (version !== VERSION) r.fail('format version', `is ${version}; this head reads version ${VERSION}`);
    const strings: string[] = new Array(r.count('string count'));
    r.section = 'string';
    for (let i = 0; i < strings.length; i++) {
      r.item = i;
      strings[i] = r.str('text');
    }
    r.item = -1;
    r.section = 'header';
    const infos: TaskInfo[] = new Array(r.count('info count'));
    r.section = 'info';
    for (let k = 0; k < infos.length; k++) {
      r.item = k;
      infos[k] = readInfo(r, strings);
    }
    r.section = 'header';
    r.item = -1;
    const count = r.count('attempt count');
    // No more room than the bytes left can hold (a bogus count fails in the scan, before it gets further).
    const view = new TaskEventsView(bytes, strings, infos, count, Math.min(count, Math.floor((bytes.length - r.pos) / MIN_ATTEMPT_BYTES) + 1));
    view.scan(r);
    return view;
  }

  /** Checks every attempt's structure, noting where its parts are. */
  private scan(r: Reader): void {
    const n = this.strings.length;
    r.section = 'attempt';
    for (let k = 0; k < this.count; k++) {
      r.item = k;
      // Only a batch that ends early gets here with no room left: the reads below fail.
      if (k === this.idAt.length) r.need(MIN_ATTEMPT_BYTES, 'task id');
      this.idAt[k] = r.skipStr('task id');
      this.fieldsAt[k] = r.pos;
      r.u32('attempt number');
      r.ref('job id', n);
      const flags = r.u8('flags');
      if (flags > (FLAG_INFO | FLAG_ERROR | FLAG_LOG)) r.fail('flags', `${flags} are not known`);
      this.flagsOf[k] = flags;
      const transitions = r.u8('transition count');
      for (let j = 0; j < transitions; j++) {
        const code = r.u8('state');
        if (code >= TASK_STATES.length) r.fail('state', `code ${code} is not a task state`);
        r.f64('time');
      }
      this.restAt[k] = r.pos;
      r.ref('node id', n);
      r.ref('worker id', n);
      r.u32('worker pid');
      if (flags & FLAG_INFO) {
        const i = r.u32('info');
        if (i >= this.infos.length) r.fail('info', `refers to info ${i}; there are ${this.infos.length}`);
      }
      if (flags & FLAG_ERROR) {
        r.ref('error type', n);
        r.skipStr('error message');
      }
      if (flags & FLAG_LOG) for (let i = 0; i < 4; i++) r.f64('log');
    }
    r.section = 'end';
    r.item = -1;
    r.end();
  }

  // ---- fields of attempt k (the structure was checked: no bounds to check here) --------------

  /** Where the task id's bytes start in `bytes`, and how many there are. */
  taskIdAt(k: number): number {
    return this.idAt[k]!;
  }

  taskIdLength(k: number): number {
    return this.fieldsAt[k]! - this.idAt[k]!;
  }

  taskId(k: number): string {
    return this.bytes.toString('utf8', this.idAt[k]!, this.fieldsAt[k]!);
  }

  attemptNumber(k: number): number {
    return this.data.getUint32(this.fieldsAt[k]!, true);
  }

  /** The job's index in `strings`. */
  jobRef(k: number): number {
    return this.data.getUint32(this.fieldsAt[k]! + 4, true);
  }

  transitionCount(k: number): number {
    return this.bytes[this.fieldsAt[k]! + 9]!;
  }

  /** Transition j's state as its index in TASK_STATES. */
  transitionState(k: number, j: number): number {
    return this.bytes[this.fieldsAt[k]! + 10 + j * TRANSITION]!;
  }

  transitionTime(k: number, j: number): number {
    return this.data.getFloat64(this.fieldsAt[k]! + 11 + j * TRANSITION, true);
  }

  nodeRef(k: number): number {
    return this.data.getUint32(this.restAt[k]!, true);
  }

  workerRef(k: number): number {
    return this.data.getUint32(this.restAt[k]! + 4, true);
  }

  workerPid(k: number): number {
    return this.data.getUint32(this.restAt[k]! + 8, true);
  }

  /** The attempt's info (an index in `infos`), or -1. */
  infoIndex(k: number): number {
    return this.flagsOf[k]! & FLAG_INFO ? this.data.getUint32(this.restAt[k]! + 12, true) : -1;
  }

  /** The error type's index in `strings`, or -1 when the attempt carries no error. */
  errorTypeRef(k: number): number {
    return this.flagsOf[k]! & FLAG_ERROR ? this.data.getUint32(this.errorAt(k), true) : -1;
  }

  /** Bytes of the error message's UTF-8 (0 without an error). */
  errorMessageBytes(k: number): number {
    return this.flagsOf[k]! & FLAG_ERROR ? this.data.getUint16(this.errorAt(k) + 4, true) : 0;
  }

  errorMessage(k: number): string {
    if (!(this.flagsOf[k]! & FLAG_ERROR)) return '';
    const at = this.errorAt(k) + 6;
    return this.bytes.toString('utf8', at, at + this.data.getUint16(at - 2, true));
  }

  hasLog(k: number): boolean {
    return (this.flagsOf[k]! & FLAG_LOG) !== 0;
  }

  /** Log offset i (0 stdout start, 1 stdout end, 2 stderr start, 3 stderr end) of an attempt that has them. */
  logOffset(k: number, i: number): number {
    let at = this.errorAt(k);
    if (this.flagsOf[k]! & FLAG_ERROR) at += 6 + this.data.getUint16(at + 4, true);
    return this.data.getFloat64(at + i * 8, true);
  }

  /** Attempt k as a record (made for the caller; its info is shared with the batch's other attempts). */
  attempt(k: number): AttemptEvents {
    const transitions: AttemptEvents['transitions'] = new Array(this.transitionCount(k));
    for (let j = 0; j < transitions.length; j++) transitions[j] = { state: TASK_STATES[this.transitionState(k, j)]!, timeMs: this.transitionTime(k, j) };
    const a: AttemptEvents = {
      taskId: this.taskId(k), attemptNumber: this.attemptNumber(k), jobId: this.strings[this.jobRef(k)]!, transitions,
      nodeId: this.strings[this.nodeRef(k)]!, workerId: this.strings[this.workerRef(k)]!, workerPid: this.workerPid(k), errorType: '', errorMessage: '',
    };
    const info = this.infoIndex(k);
    if (info >= 0) a.info = this.infos[info];
    const error = this.errorTypeRef(k);
    if (error >= 0) {
      a.errorType = this.strings[error]!;
      a.errorMessage = this.errorMessage(k);
    }
    if (this.hasLog(k)) a.log = { stdoutStart: this.logOffset(k, 0), stdoutEnd: this.logOffset(k, 1), stderrStart: this.logOffset(k, 2), stderrEnd: this.logOffset(k, 3) };
    return a;
  }

  /** Where the error type's ref is (or would be). */
  private errorAt(k: number): number {
    return this.restAt[k]! + (this.flagsOf[k]! & FLAG_INFO ? 16 : 12);
  }
}

/** Reads what encodeTaskEvents wrote, as records; throws TaskEventsFormatError on anything else. */
export function decodeTaskEvents(bytes: Buffer): AttemptEvents[] {
  const view = TaskEventsView.read(bytes);
  const out: AttemptEvents[] = new Array(view.count);
  for (let k = 0; k < out.length; k++) out[k] = view.attempt(k);
  return out;
}

function readInfo(r: Reader, strings: readonly string[]): TaskInfo {
  const ref = (what: string) => strings[r.ref(what, strings.length)]!;
  const name = ref('name');
  const funcOrClassName = ref('function or class name');
  const typeCode = r.u8('type');
  const type = TASK_TYPES[typeCode];
  if (!type) r.fail('type', `code ${typeCode} is not a task type`);
  const parentTaskId = ref('parent task id');
  const actorId = ref('actor id');
  const placementGroupId = ref('placement group id');
  const resources: [string, number][] = new Array(r.u8('resource count'));
  for (let j = 0; j < resources.length; j++) resources[j] = [ref('resource name'), r.f64('resource amount')];
  // fromEntries defines own properties: a resource named __proto__ stays a plain key.
  return { name, funcOrClassName, type, parentTaskId, actorId, placementGroupId, requiredResources: Object.fromEntries(resources) };
}
