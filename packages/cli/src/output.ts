/**
 * Where CLI text goes: results on stdout, progress and warnings on stderr. Colour only on a TTY and
 * never with NO_COLOR or --json (chalk ignores NO_COLOR, so the level is decided here).
 */
import { Chalk, type ChalkInstance } from 'chalk';

export function wantsColor(stream: NodeJS.WriteStream, json = false, env: NodeJS.ProcessEnv = process.env): boolean {
  if (json || env.NO_COLOR !== undefined || env.TERM === 'dumb') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return !!stream.isTTY;
}

export function colors(json = false): ChalkInstance {
  return new Chalk({ level: wantsColor(process.stdout, json) ? 1 : 0 });
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Progress on stderr: a spinner on a TTY, one plain line per step otherwise. */
export class Progress {
  private timer?: NodeJS.Timeout;
  private text = '';
  private frame = 0;
  private readonly tty = !!process.stderr.isTTY && process.env.TERM !== 'dumb';

  step(text: string): void {
    this.text = text;
    if (!this.tty) {
      process.stderr.write(`${text}\n`);
      return;
    }
    if (!this.timer) {
      this.timer = setInterval(() => this.render(), 80);
      this.timer.unref();
    }
    this.render();
  }

  private render(): void {
    process.stderr.write(`\r\x1b[2K${FRAMES[this.frame++ % FRAMES.length]} ${this.text}`);
  }

  done(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && this.text) process.stderr.write('\r\x1b[2K');
    this.text = '';
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}
