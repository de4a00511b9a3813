import { describe, expect, it } from "vitest";
import { OrderedWrites } from "../../src/sync/ordered-writes.ts";

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("ordered writes: push, settle the oldest, drain", () => {
  it("a later batch acknowledged first does not move the cursor past an earlier one still in flight", async () => {
    const cursor: string[] = [];
    const writes = new OrderedWrites<string, string>(3, async (batch, result) => void cursor.push(`${batch}:${result}`));
    const [a, b, c] = [deferred<string>(), deferred<string>(), deferred<string>()];
    await writes.push("a", a.promise);
    await writes.push("b", b.promise);
    const third = writes.push("c", c.promise); // the third in flight: waits for the oldest, "a"
    b.resolve("ok");
    c.resolve("ok");
    await tick();
    expect(cursor).toEqual([]);
    a.resolve("ok");
    await third;
    expect(cursor).toEqual(["a:ok"]);
    await writes.drain();
    expect(cursor).toEqual(["a:ok", "b:ok", "c:ok"]);
  });

  it("up to `limit` writes run at once; the next push waits for the oldest", async () => {
    const writes = new OrderedWrites<number, number>(2, async () => {});
    const [first, second] = [deferred<number>(), deferred<number>()];
    await writes.push(1, first.promise);
    let pushed = false;
    const secondPush = writes.push(2, second.promise).then(() => (pushed = true));
    await tick();
    expect(pushed).toBe(false);
    first.resolve(1);
    await secondPush;
    expect(pushed).toBe(true);
  });

  it("a failed write stops the line: it is thrown, and no later result is recorded", async () => {
    const cursor: number[] = [];
    const writes = new OrderedWrites<number, number>(3, async (batch) => void cursor.push(batch));
    const [one, two] = [deferred<number>(), deferred<number>()];
    await writes.push(1, one.promise);
    await writes.push(2, two.promise);
    two.resolve(2);
    one.reject(new Error("engine said no"));
    await expect(writes.drain()).rejects.toThrow("engine said no");
    expect(cursor).toEqual([]);
  });

  it("a failure in what the settled result triggers (a rejected document) stops the line too", async () => {
    const cursor: number[] = [];
    const writes = new OrderedWrites<number, number>(2, async (batch) => {
      if (batch === 1) throw new Error("rejected");
      cursor.push(batch);
    });
    await writes.push(1, Promise.resolve(1));
    await expect(writes.push(2, Promise.resolve(2))).rejects.toThrow("rejected");
    expect(cursor).toEqual([]);
  });
});
