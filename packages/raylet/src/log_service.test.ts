import { afterEach, beforeEach, describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RpcError } from '@rayts/common';
import { globToRegExp, listLogs, resolveLogName, streamLog, tailOffset } from './log_service.js';

const NOT_FOUND = 5;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rayts-test-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Glob matching by dynamic programming, to check globToRegExp against. Tokens: *, ?, [xy], char. */
function referenceMatch(glob: string, name: string): boolean {
  const toks: (string | ((c: string) => boolean))[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === '*') toks.push('*');
    else if (ch === '?') toks.push(() => true);
    else if (ch === '[') {
      const end = glob.indexOf(']', i);
      const set = glob.slice(i + 1, end);
      toks.push((c) => set.includes(c));
      i = end;
    } else toks.push((c) => c === ch);
  }
  // ok[i][j]: first i tokens match first j characters.
  const ok = Array.from({ length: toks.length + 1 }, () => new Array<boolean>(name.length + 1).fill(false));
  ok[0]![0] = true;
  for (let i = 1; i <= toks.length; i++) {
    const t = toks[i - 1]!;
    for (let j = 0; j <= name.length; j++) {
      ok[i]![j] = t === '*'
        ? ok[i - 1]![j]! || (j > 0 && ok[i]![j - 1]!)
        : j > 0 && ok[i - 1]![j - 1]! && (t as (c: string) => boolean)(name[j - 1]!);
    }
  }
  return ok[toks.length]![name.length]!;
}

function write(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, content);
  return file;
}

/** What tailOffset says the last `n` lines are. */
function tailOf(file: string, n: number): string {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const offset = tailOffset(fd, size, n);
    expect(offset).toBeGreaterThanOrEqual(0);
    expect(offset).toBeLessThanOrEqual(size);
    return fs.readFileSync(file).subarray(offset).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}

function rpcCodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(RpcError);
    return (err as RpcError).code;
  }
  throw new Error('expected an RpcError, nothing was thrown');
}

describe('globToRegExp', () => {
  it('* matches any run of characters', () => {
    const re = globToRegExp('*.log');
    expect(re.test('raylet.log')).toBe(true);
    expect(re.test('.log')).toBe(true);
    expect(re.test('raylet.log.1')).toBe(false);
    expect(re.test('rayletxlog')).toBe(false); // the dot is literal
  });

  it('? matches exactly one character', () => {
    const re = globToRegExp('raylet.?ut');
    expect(re.test('raylet.out')).toBe(true);
    expect(re.test('raylet.ut')).toBe(false);
    expect(re.test('raylet.err')).toBe(false);
    expect(re.test('raylet.oout')).toBe(false);
  });

  it('[..] matches one character of the set', () => {
    const re = globToRegExp('[ab]*');
    expect(re.test('abc')).toBe(true);
    expect(re.test('b')).toBe(true);
    expect(re.test('cab')).toBe(false);
    expect(re.test('')).toBe(false);
  });

  it('matches whole names only and treats regex syntax literally', () => {
    expect(globToRegExp('raylet').test('raylet.log')).toBe(false);
    expect(globToRegExp('a+b(1)').test('a+b(1)')).toBe(true);
    expect(globToRegExp('a+b(1)').test('aab1')).toBe(false);
    expect(globToRegExp('$^|{}').test('$^|{}')).toBe(true);
  });

  it('falls back to a literal match for an unbalanced bracket', () => {
    const re = globToRegExp('[ab');
    expect(re.test('[ab')).toBe(true);
    expect(re.test('a')).toBe(false);
  });

  it('agrees with a reference matcher on many small globs and names', () => {
    let seed = 12345;
    const rand = (n: number) => { seed = (seed * 1103515245 + 12345) % 2 ** 31; return seed % n; };
    const globTokens = ['a', 'b', '.', '*', '?', '[ab]', '[.b]'];
    const nameChars = ['a', 'b', '.'];
    let matches = 0;
    for (let k = 0; k < 3000; k++) {
      const glob = Array.from({ length: 1 + rand(6) }, () => globTokens[rand(globTokens.length)]).join('');
      const name = Array.from({ length: rand(8) }, () => nameChars[rand(nameChars.length)]).join('');
      const expected = referenceMatch(glob, name);
      if (expected) matches += 1;
      expect(globToRegExp(glob).test(name), `${glob} vs ${name}`).toBe(expected);
    }
    expect(matches).toBeGreaterThan(100);
  });

  it('does not backtrack exponentially on hostile globs', () => {
    // Run the expressions in a child with a deadline: a catastrophic regex would block this worker
    // in synchronous code, where no test timeout can interrupt it.
    const cases = [
      { glob: '*a'.repeat(40) + '*b', name: `worker-${'a'.repeat(200)}.out`, expected: false },
      { glob: '*a'.repeat(40) + '*b', name: `${'a'.repeat(200)}b`, expected: true },
      { glob: '*'.repeat(200) + 'x', name: 'a'.repeat(250), expected: false },
    ].map((c) => ({ source: globToRegExp(c.glob).source, name: c.name, expected: c.expected }));
    const script = `const cases = ${JSON.stringify(cases)};
      console.log(JSON.stringify(cases.map((c) => new RegExp(c.source).test(c.name) === c.expected)));`;
    const result = spawnSync(process.execPath, ['-e', script], { timeout: 10_000, encoding: 'utf8' });
    expect(result.signal, 'the regex did not finish within 10 s').toBeNull();
    expect(JSON.parse(result.stdout)).toEqual([true, true, true]);
  });
});

describe('listLogs', () => {
  it('lists regular files with their categories, sorted', () => {
    write('worker-x-1.out', 'out\n');
    write('worker-x-1.err', '');
    write('raylet.log', 'hello\n');
    write('gcs_server.err', 'e');
    write('job-driver-1.log', '');
    write('dashboard.log', '');
    write('monitor.log', '');
    const entries = listLogs(dir, '');
    expect(entries.map((e) => [e.name, e.category])).toEqual([
      ['dashboard.log', 'dashboard'],
      ['gcs_server.err', 'gcs_server'],
      ['job-driver-1.log', 'driver'],
      ['monitor.log', 'internal'],
      ['raylet.log', 'raylet'],
      ['worker-x-1.err', 'worker_err'],
      ['worker-x-1.out', 'worker_out'],
    ]);
    const raylet = entries.find((e) => e.name === 'raylet.log')!;
    expect(raylet.size).toBe(6);
    expect(Math.abs(raylet.modifiedMs - fs.statSync(path.join(dir, 'raylet.log')).mtimeMs)).toBeLessThan(1);
  });

  it('never lists symlinks or directories', () => {
    write('raylet.log', 'x');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.log'));
    fs.symlinkSync(path.join(dir, 'raylet.log'), path.join(dir, 'alias.log'));
    fs.mkdirSync(path.join(dir, 'old.log'));
    expect(listLogs(dir, '').map((e) => e.name)).toEqual(['raylet.log']);
    expect(listLogs(dir, '*.log').map((e) => e.name)).toEqual(['raylet.log']);
  });

  it('filters by glob', () => {
    for (const name of ['worker-a-1.out', 'worker-a-1.err', 'raylet.log', 'raylet.out']) write(name, '');
    expect(listLogs(dir, 'worker-*.err').map((e) => e.name)).toEqual(['worker-a-1.err']);
    expect(listLogs(dir, 'raylet.*').map((e) => e.name)).toEqual(['raylet.log', 'raylet.out']);
    expect(listLogs(dir, 'nothing*')).toEqual([]);
  });
});

describe('resolveLogName', () => {
  it('resolves a listed name to its path', () => {
    const file = write('raylet.log', 'x');
    expect(resolveLogName(dir, 'raylet.log')).toBe(file);
  });

  it('refuses anything that is not a listed regular file with NOT_FOUND', () => {
    write('raylet.log', 'x');
    fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.log'));
    fs.mkdirSync(path.join(dir, 'sub'));
    write('sub/inner.log', 'x');
    for (const name of ['../../etc/passwd', '/etc/passwd', '%2e%2e', '%2e%2e%2fetc%2fpasswd', 'a\u0000b', 'raylet.log\u0000',
      'missing.log', 'passwd.log', 'sub', 'sub/inner.log', '.', '..', '', 'raylet.log/', './raylet.log', 'RAYLET.LOG']) {
      expect(rpcCodeOf(() => resolveLogName(dir, name)), JSON.stringify(name)).toBe(NOT_FOUND);
    }
  });

  it('keeps long names out of the error message', () => {
    let message = '';
    try {
      resolveLogName(dir, 'x'.repeat(10_000));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('no log file');
    expect(message.length).toBeLessThan(400);
  });
});

describe('tailOffset', () => {
  const lines = (n: number) => Array.from({ length: n }, (_, i) => `line ${i + 1}`);

  it('gives the last N lines of a file ending in a newline', () => {
    const file = write('a.log', lines(5).join('\n') + '\n');
    expect(tailOf(file, 1)).toBe('line 5\n');
    expect(tailOf(file, 2)).toBe('line 4\nline 5\n');
    expect(tailOf(file, 5)).toBe(lines(5).join('\n') + '\n');
  });

  it('gives the last N lines of a file without a trailing newline', () => {
    const file = write('a.log', lines(5).join('\n'));
    expect(tailOf(file, 1)).toBe('line 5');
    expect(tailOf(file, 2)).toBe('line 4\nline 5');
    expect(tailOf(file, 5)).toBe(lines(5).join('\n'));
  });

  it('gives the whole file when N exceeds the number of lines, or is -1', () => {
    const content = lines(3).join('\n') + '\n';
    const file = write('a.log', content);
    expect(tailOf(file, 4)).toBe(content);
    expect(tailOf(file, 1000)).toBe(content);
    const fd = fs.openSync(file, 'r');
    try {
      expect(tailOffset(fd, content.length, -1)).toBe(0);
      expect(tailOffset(fd, content.length, 0)).toBe(content.length);
    } finally {
      fs.closeSync(fd);
    }
  });

  it('counts empty lines as lines', () => {
    const file = write('a.log', 'a\n\n\nb\n');
    expect(tailOf(file, 2)).toBe('\nb\n');
    expect(tailOf(file, 3)).toBe('\n\nb\n');
  });

  it('handles an empty file and a single line', () => {
    expect(tailOf(write('empty.log', ''), 3)).toBe('');
    expect(tailOf(write('one.log', 'only\n'), 1)).toBe('only\n');
    expect(tailOf(write('nl.log', '\n'), 1)).toBe('\n');
  });

  it('works across 64 KiB chunks', () => {
    // Lines of varying length so that newlines fall on and around chunk boundaries.
    const all = Array.from({ length: 12_000 }, (_, i) => `${i}:${'x'.repeat(i % 37)}`);
    const content = all.join('\n') + '\n';
    expect(Buffer.byteLength(content)).toBeGreaterThan(4 * 64 * 1024);
    const file = write('big.log', content);
    for (const n of [1, 10, 1000, 2500, 2501, 5000, 11_999, 12_000, 12_001]) {
      const expected = n >= all.length ? content : all.slice(-n).join('\n') + '\n';
      expect(tailOf(file, n), `n=${n}`).toBe(expected);
    }
  });

  it('finds a line that starts exactly at a chunk boundary', () => {
    const chunk = 64 * 1024;
    // The newline before the last line sits at byte size - chunk - 1, the last line is one chunk long.
    const lastLine = 'y'.repeat(chunk - 1) + '\n';
    const content = 'first\n' + 'second\n' + lastLine;
    const file = write('edge.log', content);
    expect(tailOf(file, 1)).toBe(lastLine);
    expect(tailOf(file, 2)).toBe('second\n' + lastLine);
    expect(tailOf(file, 3)).toBe(content);
  });
});

describe('streamLog', () => {
  function collector() {
    const chunks: { data: Buffer; truncated: boolean }[] = [];
    return {
      chunks,
      text: () => Buffer.concat(chunks.map((c) => c.data)).toString('utf8'),
      target: { write: (c: { data: Buffer; truncated: boolean }) => { chunks.push({ data: Buffer.from(c.data), truncated: c.truncated }); return true; }, cancelled: () => false },
    };
  }

  it('with tail=2 writes exactly the last two lines and marks the first chunk truncated', async () => {
    const file = write('raylet.log', 'one\ntwo\nthree\nfour\n');
    const c = collector();
    await streamLog(file, { tail: 2, follow: false }, c.target);
    expect(c.text()).toBe('three\nfour\n');
    expect(c.chunks[0]!.truncated).toBe(true);
  });

  it('marks only the first chunk of a long tail truncated', async () => {
    const all = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const file = write('raylet.log', all.join('\n') + '\n');
    const c = collector();
    await streamLog(file, { tail: 15_000, follow: false }, c.target);
    expect(c.text()).toBe(all.slice(-15_000).join('\n') + '\n');
    expect(c.chunks.length).toBeGreaterThan(1);
    expect(c.chunks.map((x) => x.truncated)).toEqual([true, ...new Array<boolean>(c.chunks.length - 1).fill(false)]);
  });

  it('is not truncated when the whole file is sent', async () => {
    const content = 'one\ntwo\n';
    const file = write('raylet.log', content);
    for (const tail of [-1, 2, 100]) {
      const c = collector();
      await streamLog(file, { tail: tail, follow: false }, c.target);
      expect(c.text(), `tail=${tail}`).toBe(content);
      expect(c.chunks.every((x) => !x.truncated), `tail=${tail}`).toBe(true);
    }
  });

  it('with tail=0 and no follow writes nothing', async () => {
    const file = write('raylet.log', 'one\ntwo\n');
    const c = collector();
    await streamLog(file, { tail: 0, follow: false }, c.target);
    expect(c.chunks).toEqual([]);
  });

  it('with a range writes exactly those bytes (one task\'s output), clamped to the file, and never follows', async () => {
    const file = write('worker-a-1.out', 'before\ntask line 1\ntask line 2\nafter\n');
    const c = collector();
    await streamLog(file, { tail: 1, follow: true, range: { start: 7, end: 31 } }, c.target);
    expect(c.text()).toBe('task line 1\ntask line 2\n');
    expect(c.chunks.every((x) => !x.truncated)).toBe(true);
    const beyond = collector();
    await streamLog(file, { tail: -1, follow: false, range: { start: 31, end: 10_000 } }, beyond.target);
    expect(beyond.text()).toBe('after\n');
  });

  it('stops writing once the client cancelled', async () => {
    const file = write('big.log', 'z'.repeat(5 * 64 * 1024));
    const chunks: Buffer[] = [];
    await streamLog(file, { tail: -1, follow: true }, { write: (c) => { chunks.push(c.data); return true; }, cancelled: () => chunks.length >= 2 });
    expect(chunks).toHaveLength(2);
  });
});
