/**
 * Collects the calls made during one turn of the event loop and hands them over as one batch.
 * A burst (a driver creating 100 placement groups in a loop, a head reserving them on one node)
 * then costs one round trip or one transaction instead of one per item; a lone call waits only
 * for the end of the current turn (setImmediate).
 */

/** What `send` gives back for one item: its result, or the error that item's promise rejects with. */
export type BatchOutcome<Result> = { ok: true; value: Result } | { ok: false; error: Error };

interface Queued<Item, Result> {
  item: Item;
  resolve(value: Result): void;
  reject(error: Error): void;
}

export class TurnBatcher<Item, Result> {
  private queue: Queued<Item, Result>[] = [];
  private scheduled = false;

  /**
   * @param send handles one batch; it returns one outcome per item, in order. If it throws or
   *   rejects, every item of the batch rejects with that error.
   * @param maxBatch items per batch at most (a bigger burst goes out as several batches).
   */
  constructor(
    private readonly send: (items: Item[]) => Promise<BatchOutcome<Result>[]> | BatchOutcome<Result>[],
    private readonly maxBatch = 1000,
  ) {}

  add(item: Item): Promise<Result> {
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Hands over what is queued now instead of at the end of the turn (the batch is sent synchronously). */
  flush(): void {
    this.scheduled = false;
    const all = this.queue;
    this.queue = [];
    for (let i = 0; i < all.length; i += this.maxBatch) void this.sendBatch(all.slice(i, i + this.maxBatch));
  }

  private async sendBatch(batch: Queued<Item, Result>[]): Promise<void> {
    let outcomes: BatchOutcome<Result>[];
    try {
      outcomes = await this.send(batch.map((q) => q.item));
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      for (const q of batch) q.reject(error);
      return;
    }
    batch.forEach((q, i) => {
      const outcome = outcomes[i];
      if (!outcome) q.reject(new Error(`a batch of ${batch.length} calls got only ${outcomes.length} answers`));
      else if (outcome.ok) q.resolve(outcome.value);
      else q.reject(outcome.error);
    });
  }
}
