/**
 * A first-in first-out queue with O(1) `shift` at any length. A plain array's `shift` moves every
 * element once the array is large (V8 cannot trim the front of an array in its large-object space),
 * which made a raylet with a million tasks queued spend a millisecond per task started.
 */
export class Fifo<T> implements Iterable<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  /** The first item, or undefined when empty. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** Puts an item back at the front. */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head); // amortized: at most as many moves as shifts
      this.head = 0;
    }
    return item;
  }

  /** Removes the items `predicate` accepts and returns them, in order. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const taken: T[] = [];
    const keep: T[] = [];
    for (const item of this) (predicate(item) ? taken : keep).push(item);
    this.items = keep;
    this.head = 0;
    return taken;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i] as T;
  }
}
