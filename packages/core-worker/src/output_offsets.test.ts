import { describe, expect, it } from 'vitest';
import { OutputOffsets, type OutputStream } from './output_offsets.js';

/** Files whose sizes the test sets: what another writer (a child process) adds shows only in them. */
function files(stdout: number | undefined, stderr: number | undefined) {
  const sizes: Record<OutputStream, number | undefined> = { stdout, stderr };
  let reads = 0;
  return { sizes, reads: () => reads, fake: { size: (s: OutputStream) => { reads += 1; return sizes[s]; } } };
}

describe('OutputOffsets', () => {
  it('starts at the files\' sizes and counts what the process writes, without reading the files again', () => {
    const f = files(100, 7);
    const o = new OutputOffsets(f.fake, 60_000);
    expect([o.stdout, o.stderr]).toEqual([100, 7]);
    o.written('stdout', 17);
    o.written('stderr', 3);
    o.refresh(Date.now()); // within the resync period: counted, not read
    expect([o.stdout, o.stderr, f.reads()]).toEqual([117, 10, 2]);
  });

  it('re-reads the sizes once the resync period passed, taking in bytes written another way', () => {
    const f = files(0, 0);
    const o = new OutputOffsets(f.fake, 10);
    const t0 = Date.now();
    o.written('stdout', 5);
    f.sizes.stdout = 5 + 40; // a child process sharing stdout wrote 40 bytes
    o.refresh(t0 + 5);
    expect(o.stdout).toBe(5);
    o.refresh(t0 + 10);
    expect(o.stdout).toBe(45);
  });

  it('a stream that is not a file has no offsets and counts nothing', () => {
    const o = new OutputOffsets(files(undefined, 3).fake, 10);
    o.written('stdout', 10);
    o.written('stderr', 2);
    expect([o.stdout, o.stderr]).toEqual([-1, 5]);
  });
});
