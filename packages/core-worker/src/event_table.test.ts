import { describe, expect, it } from 'vitest';
import { EventTable, OWNER, STATE } from './event_table.js';

describe('EventTable', () => {
  it('counts every event it drops, also those dropped to make room when every slot is live', () => {
    const capacity = 1000;
    const table = new EventTable(capacity);
    let dropped = 0;
    const attempts = 50_000;
    for (let i = 0; i < attempts; i++) {
      const slot = table.slot(OWNER, `task-${i}`, 0, 'job');
      table.time(slot, STATE.PENDING_ARGS_AVAIL, i);
      dropped += table.bound();
    }
    // One event per attempt: all of them are either still in the table or counted as dropped.
    expect(table.pending).toBeLessThanOrEqual(capacity);
    expect(dropped + table.pending).toBe(attempts);
    const kept: number[] = [];
    table.drain((slot) => kept.push(table.times[slot * Object.keys(STATE).length + STATE.PENDING_ARGS_AVAIL]!));
    // The newest are kept.
    expect(kept.at(-1)).toBe(attempts - 1);
  });
});
