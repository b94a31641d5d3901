/**
 * How a process moves an object's bytes into and out of its node's store, once the raylet has said
 * where the object lies in the arena. A process on the node maps the arena (MappedArena): it writes
 * there directly and reads in place, without a copy. A remote client (`rayts://`) cannot map it: its
 * bytes stream through the head (remote/tunnel_arena.ts).
 */
import { Arena } from '@rayts/object-store';
import { RaytsError, type Encoded } from '@rayts/common';
import { writeTo, type Decoder } from './serialization.js';
import type { Welcome } from './protocol/messages.js';

export interface ObjectBytes {
  /** Writes an encoded value of `size` bytes at arena offset `offset` (where objCreate placed it). */
  write(offset: number, e: Encoded, size: number): Promise<void>;
  /**
   * Reads and decodes the object at `offset`. `shared`: the value aliases the store's memory, so the
   * object must stay pinned while the value lives.
   */
  read(offset: number, size: number, decoder: Pick<Decoder, 'decodeInPlace' | 'decodeStreamed'>): Promise<{ value: unknown; shared: boolean }>;
  /**
   * The session ended (the driver's `shutdown()`): lets go of the store. Values read in place stay
   * readable while they live; reads and writes from now on fail.
   */
  detach(): void;
}

/**
 * The arena mapped into this process (on first use). `detach` closes its file: the mappings (and the
 * views into them) stay valid, and the kernel frees the store's memory, which a driver's open file
 * kept allocated after its cluster stopped (hugetlb pages the next cluster could not have), once
 * they are collected.
 */
export class MappedArena implements ObjectBytes {
  private arena?: Arena;
  private detached = false;

  constructor(private readonly welcome: Pick<Welcome, 'arenaPath' | 'arenaSize' | 'arenaSegmentSize' | 'arenaPageMode'>) {}

  async write(offset: number, e: Encoded, size: number): Promise<void> {
    const arena = this.attach();
    // Faulting the pages in at once is much faster for a large first write than one fault per page.
    arena.populate(offset, size, 'write');
    writeTo(e, arena.view(offset, size));
  }

  async read(offset: number, size: number, decoder: Pick<Decoder, 'decodeInPlace'>): Promise<{ value: unknown; shared: boolean }> {
    return { value: decoder.decodeInPlace(this.attach().view(offset, size)), shared: true };
  }

  detach(): void {
    this.detached = true;
    this.arena?.close();
    this.arena = undefined;
  }

  private attach(): Arena {
    if (this.detached) throw new RaytsError('the session with the node ended (shutdown): its object store is no longer mapped here', 'call init() again to connect');
    if (!this.arena) {
      const w = this.welcome;
      this.arena = Arena.attach(w.arenaPath, w.arenaSize, { segmentSize: w.arenaSegmentSize, writable: true, pageMode: w.arenaPageMode });
    }
    return this.arena;
  }
}
