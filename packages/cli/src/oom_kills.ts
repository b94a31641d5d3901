/**
 * The memory monitors' kills as `rayts status` shows them under Recent failures: task attempts that
 * failed with OUT_OF_MEMORY, read from the head's task events (the owner reports the attempt with
 * the OutOfMemoryError's message, which names the memory at the time of the kill).
 */
import type { TaskAttemptInfoMsgOutput } from '@rayts/common';

/** Attempts `rayts status` reads to find the kills (the newest; older kills are not "recent"). */
export const OOM_SCAN_LIMIT = 2000;

export interface OomKillRow {
  nodeId: string;
  taskName: string;
  taskId: string;
  attempt: number;
  workerPid: number;
  /** When the attempt ended (ms since the epoch; 0 = unknown). */
  timeMs: number;
  /** `used / total` of the node's memory when the worker was killed, as the message says (empty when it does not). */
  memory: string;
  threshold: string;
}

/** "… was running was 22.1 GiB / 23.5 GiB (0.953, …) …threshold of 0.95." → its figures. */
export function memoryOfMessage(message: string): { memory: string; threshold: string } {
  const m = /was running was ([^/]+? \/ [^(]+?) \(/.exec(message);
  const t = /memory usage threshold of (\d+(?:\.\d+)?)/.exec(message);
  return { memory: m?.[1] ?? '', threshold: t?.[1] ?? '' };
}

/** The newest `max` OOM kills among `attempts`, newest first. */
export function oomKillsOf(attempts: readonly TaskAttemptInfoMsgOutput[], max: number): OomKillRow[] {
  return attempts
    .filter((a) => a.errorType === 'OUT_OF_MEMORY')
    .map((a) => ({
      nodeId: a.nodeId, taskName: a.name, taskId: a.taskId, attempt: a.attemptNumber, workerPid: a.workerPid,
      timeMs: Number(a.endTimeMs) || Number(a.stateTransitions.at(-1)?.timeMs ?? 0), ...memoryOfMessage(a.errorMessage),
    }))
    .sort((a, b) => b.timeMs - a.timeMs)
    .slice(0, max);
}
