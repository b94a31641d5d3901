/**
 * The head node's object-store arena as a file, for remote clients' `put` and `get`: bytes are
 * written and read with pwrite/pread, not through a mapping, so the head process never faults the
 * arena's pages into its own address space (its RSS does not grow with the objects it streams), and
 * the raylet's warm mapping sees the same pages. hugetlbfs takes no pwrite, so an arena of hugetlb
 * pages (`pageMode`, from the raylet's welcome) is written through a mapping; reads stay pread.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { Arena, type PageMode } from '@rayts/object-store';

export class ArenaFile {
  private fd?: number;
  private mapped?: Arena;

  constructor(private readonly path: string, readonly size: number, private readonly pageMode: PageMode = '4k') {}

  write(offset: number, bytes: Uint8Array): void {
    this.check(offset, bytes.byteLength);
    if (this.pageMode === 'hugetlb') {
      this.mapped ??= Arena.attach(this.path, this.size, { pageMode: this.pageMode });
      this.mapped.view(offset, bytes.byteLength).set(bytes);
      return;
    }
    const fd = this.open();
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done, offset + done);
  }

  /** Fills `into` from arena offset `offset`. */
  readInto(offset: number, into: Uint8Array): void {
    const length = into.byteLength;
    this.check(offset, length);
    const fd = this.open();
    let done = 0;
    while (done < length) {
      const n = readSync(fd, into, done, length - done, offset + done);
      if (n === 0) throw new Error(`the arena file ${this.path} ends before offset ${offset + done}`);
      done += n;
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    this.mapped?.close();
    this.mapped = undefined;
  }

  private open(): number {
    this.fd ??= openSync(this.path, 'r+');
    return this.fd;
  }

  /** Throws a RangeError unless [offset, offset+length) lies in the store. */
  check(offset: number, length: number): void {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`bytes ${offset}..${offset + length} lie outside the ${this.size}-byte object store`);
    }
  }
}
