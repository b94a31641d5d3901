/**
 * Call sites of the refs a process creates, for the Call Site column of `rayts memory` (Ray's
 * RAY_record_ref_creation_sites). Off by default: capturing a stack costs microseconds per `put` or
 * task submission, so nothing is captured unless RAYTS_RECORD_REF_CREATION_SITES is on.
 */
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What `rayts memory` shows for a ref whose call site was not recorded. */
export const CALL_SITE_DISABLED = 'disabled';

/**
 * Where rayts's own code lives: the directory holding this package (`packages/` in a checkout,
 * `node_modules/@rayts/` in an install). Frames there are the runtime, not the user's code.
 */
const RAYTS_PACKAGES_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../..') + sep;

/** Deep enough to get past the runtime's own frames (api → core worker → here) in any call path. */
const STACK_DEPTH = 32;

/** The first stack frame outside rayts and Node's internals, as `/absolute/file:line` (as Ray shows it); undefined if none. */
export function userCallSite(): string | undefined {
  const savedPrepare = Error.prepareStackTrace;
  const savedLimit = Error.stackTraceLimit;
  let frames: NodeJS.CallSite[] = [];
  try {
    // V8's structured stack API: no string parsing, and the frames are only formatted on demand.
    Error.prepareStackTrace = (_err, callSites) => callSites;
    Error.stackTraceLimit = STACK_DEPTH;
    const holder: { stack?: unknown } = {};
    Error.captureStackTrace(holder, userCallSite);
    frames = holder.stack as NodeJS.CallSite[];
  } finally {
    Error.prepareStackTrace = savedPrepare;
    Error.stackTraceLimit = savedLimit;
  }
  for (const frame of frames) {
    const file = fileOf(frame);
    if (!file || file.startsWith(RAYTS_PACKAGES_DIR)) continue;
    return `${file}:${frame.getLineNumber() ?? '?'}`;
  }
  return undefined;
}

/** An absolute path for a frame of user code; undefined for Node's internals and eval'd code. */
function fileOf(frame: NodeJS.CallSite): string | undefined {
  const name = frame.getFileName();
  if (!name || name.startsWith('node:')) return undefined;
  if (name.startsWith('file://')) return fileURLToPath(name);
  return isAbsolute(name) ? name : undefined;
}

/** Call sites by object id, recorded only when enabled. */
export class CallSiteRecorder {
  private readonly sites = new Map<string, string>();

  constructor(readonly enabled: boolean) {}

  record(objectId: string): void {
    if (!this.enabled) return;
    this.sites.set(objectId, userCallSite() ?? '(unknown)');
  }

  of(objectId: string): string {
    if (!this.enabled) return CALL_SITE_DISABLED;
    return this.sites.get(objectId) ?? '(unknown)';
  }

  forget(objectId: string): void {
    this.sites.delete(objectId);
  }
}
