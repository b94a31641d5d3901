/**
 * One client per address, made on first use and kept until the address leaves the cluster view
 * (Ray's RayletClientPool). Every part that calls raylets or actor hosts gets a pool in its
 * constructor instead of keeping a map of its own.
 */
export interface Closable {
  close(): void;
}

export class ClientPool<T extends Closable> {
  private readonly clients = new Map<string, T>();

  constructor(private readonly make: (address: string) => T) {}

  /** The client for `address`, made now if there is none. */
  get(address: string): T {
    let client = this.clients.get(address);
    if (!client) this.clients.set(address, (client = this.make(address)));
    return client;
  }

  /** Closes and forgets the client of `address`, if any. */
  drop(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  /** Closes the clients of every address that `keep` refuses (nodes that left the view). */
  retain(keep: (address: string) => boolean): void {
    for (const address of [...this.clients.keys()]) if (!keep(address)) this.drop(address);
  }

  get size(): number {
    return this.clients.size;
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }
}
