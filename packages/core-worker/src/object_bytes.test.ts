import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, readlinkSync } from 'node:fs';
import { Arena } from '@rayts/object-store';
import { RaytsError } from '@rayts/common';
import { MappedArena } from './object_bytes.js';
import { Serializer, encodeForStore, sizeOf } from './serialization.js';

const arenas: Arena[] = [];
afterEach(() => { for (const a of arenas.splice(0)) a.close(); });

/** How many of this process's open files are the arena's. */
function openArenaFiles(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try { return readlinkSync(`/proc/self/fd/${fd}`).includes('rayts-arena'); } catch { return false; }
  }).length;
}

describe('MappedArena', () => {
  it('detach closes the arena file it opened; views read before stay readable; reads and writes after fail clearly', async () => {
    const arena = Arena.create({ size: 4 * 1024 * 1024 });
    arenas.push(arena);
    const before = openArenaFiles(); // the creator's own file
    const mapped = new MappedArena({ arenaPath: arena.procPath, arenaSize: arena.size, arenaSegmentSize: arena.segmentSize, arenaPageMode: arena.pageMode });
    const e = encodeForStore(new Uint8Array(1024).fill(5), 'a test value');
    await mapped.write(0, e, sizeOf(e));
    const decoder = new Serializer(() => { throw new Error('no actor handles here'); }, { decoded: (ref) => ref });
    const { value } = await mapped.read(0, sizeOf(e), decoder);
    expect(openArenaFiles()).toBe(before + 1);
    mapped.detach();
    expect(openArenaFiles()).toBe(before);
    expect((value as Uint8Array)[1023]).toBe(5);
    await expect(mapped.read(0, sizeOf(e), decoder)).rejects.toThrow(RaytsError);
    await expect(mapped.write(0, e, sizeOf(e))).rejects.toThrow(/session with the node ended/);
  });
});
