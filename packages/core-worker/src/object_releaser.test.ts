import { describe, expect, it } from 'vitest';
import { pollUntil } from '@rayts/common';
import { Lineage } from './lineage.js';
import { MemoryStore } from './memory_store.js';
import { ObjectReleaser, TRIM_AFTER_RELEASES } from './object_releaser.js';
import type { TaskRecord } from './task_manager.js';

describe('ObjectReleaser', () => {
  it('trims the allocator once after many releases, when they pause', async () => {
    const store = new MemoryStore();
    let trims = 0;
    const releaser = new ObjectReleaser({
      store, lineage: new Lineage<TaskRecord>(), transport: { request: (async () => ({ type: 'reply', reqId: 0, ok: true })) as never },
      allocator: { trim: () => { trims += 1; return true; } },
    });
    const release = (n: number, from: number) => {
      for (let i = from; i < from + n; i++) {
        store.resolve(`o${i}`, { status: 'ready', value: { kind: 'inline', data: new Uint8Array(1) } });
        expect(releaser.release(`o${i}`, () => undefined)).toBe(true);
      }
    };
    release(TRIM_AFTER_RELEASES - 1, 0);
    await new Promise((r) => setTimeout(r, 1200));
    expect(trims).toBe(0); // too few to be worth it
    release(2, TRIM_AFTER_RELEASES);
    expect(trims).toBe(0); // not while releases go on
    expect(await pollUntil(() => trims === 1, 5000)).toBe(true);
    expect(releaser.release('never-stored', () => undefined)).toBe(false);
  });
});
