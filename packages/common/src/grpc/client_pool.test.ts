import { describe, expect, it } from 'vitest';
import { ClientPool } from './client_pool.js';

class FakeClient {
  closed = false;
  constructor(readonly address: string) {}
  close(): void {
    this.closed = true;
  }
}

describe('ClientPool', () => {
  it('makes one client per address and reuses it', () => {
    let made = 0;
    const pool = new ClientPool((a) => (made++, new FakeClient(a)));
    const a = pool.get('127.0.0.1:1');
    expect(pool.get('127.0.0.1:1')).toBe(a);
    pool.get('127.0.0.2:1');
    expect(made).toBe(2);
    expect(pool.size).toBe(2);
  });

  it('closes the clients of addresses that left, and all of them at close', () => {
    const pool = new ClientPool((a) => new FakeClient(a));
    const a = pool.get('a');
    const b = pool.get('b');
    pool.retain((address) => address === 'b');
    expect(a.closed).toBe(true);
    expect(b.closed).toBe(false);
    expect(pool.get('a')).not.toBe(a);
    pool.close();
    expect(b.closed).toBe(true);
    expect(pool.size).toBe(0);
  });
});
