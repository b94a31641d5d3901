/**
 * Where `rayts job` writes: results and the job's log on stdout, warnings and errors on stderr (as
 * Ray's cli_logger does), progress on stderr only when it is a terminal. Colour per stream, only on
 * a terminal and never with NO_COLOR (output.ts decides).
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { Progress, wantsColor } from '../output.js';

export type Stream = 'out' | 'err';

/** A line for one of the two streams. */
export interface Line {
  stream: Stream;
  text: string;
}

export interface JobOutput {
  /** Paints text for the stream it goes to. */
  color(stream: Stream): ChalkInstance;
  lines(lines: Line[]): void;
  line(stream: Stream, text: string): void;
  /** Bytes of the job's log, as they come. */
  raw(chunk: Buffer | string): void;
  /** A progress line that replaces the previous one (a terminal only; nothing otherwise). */
  progress(text: string): void;
  progressDone(): void;
}

export class ConsoleOutput implements JobOutput {
  private readonly painters: Record<Stream, ChalkInstance>;
  private readonly spinner = process.stderr.isTTY ? new Progress() : undefined;

  constructor(json = false) {
    this.painters = {
      out: new Chalk({ level: wantsColor(process.stdout, json) ? 1 : 0 }),
      err: new Chalk({ level: wantsColor(process.stderr, json) ? 1 : 0 }),
    };
  }

  color(stream: Stream): ChalkInstance {
    return this.painters[stream];
  }

  lines(lines: Line[]): void {
    for (const l of lines) this.line(l.stream, l.text);
  }

  line(stream: Stream, text: string): void {
    this.progressDone();
    (stream === 'out' ? process.stdout : process.stderr).write(`${text}\n`);
  }

  raw(chunk: Buffer | string): void {
    process.stdout.write(chunk);
  }

  progress(text: string): void {
    this.spinner?.step(text);
  }

  progressDone(): void {
    this.spinner?.done();
  }
}
