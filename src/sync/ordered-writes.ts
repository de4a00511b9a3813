/**
 * Writes that run side by side but are acknowledged in the order they were
 * started: push, settle the oldest, drain. Up to `limit` writes are in flight;
 * `onSettled` sees each result in push order and only once every earlier
 * write succeeded, so what it records (the film cursor) never passes a batch
 * the index has not acknowledged. A failed write stops the line: `push` or
 * `drain` throws it, and no later result reaches `onSettled`.
 */
export class OrderedWrites<Batch, Result> {
  private readonly inFlight: Array<{ batch: Batch; result: Promise<Result> }> = [];
  private readonly limit: number;
  private readonly onSettled: (batch: Batch, result: Result) => Promise<void>;

  constructor(limit: number, onSettled: (batch: Batch, result: Result) => Promise<void>) {
    this.limit = limit;
    this.onSettled = onSettled;
  }

  /** Starts tracking `write`; waits for the oldest write first when `limit` are in flight. */
  async push(batch: Batch, write: Promise<Result>): Promise<void> {
    // Settled later, in order: never an unhandled rejection meanwhile.
    write.catch(() => {});
    this.inFlight.push({ batch, result: write });
    if (this.inFlight.length >= this.limit) await this.settleOldest();
  }

  /** Waits for every write in flight, oldest first. */
  async drain(): Promise<void> {
    while (this.inFlight.length > 0) await this.settleOldest();
  }

  private async settleOldest(): Promise<void> {
    const oldest = this.inFlight.shift()!;
    await this.onSettled(oldest.batch, await oldest.result);
  }
}
