import { describe, expect, it } from "vitest";
import { completedTransactionsBound, fullTransactionId, XID_EPOCH_SIZE } from "../../src/extract/transaction-bound.ts";
import { mulberry32 } from "../support/random.ts";

const low32 = (xid: bigint) => xid % XID_EPOCH_SIZE;

describe("the change log's transaction bound", () => {
  it("is xmax when nothing runs in this database", () => {
    expect(completedTransactionsBound({ xmax: 1000n, inProgress: [990n, 995n] }, [])).toBe(1000n);
  });

  it("is the oldest transaction of this database still running", () => {
    const bound = completedTransactionsBound({ xmax: 1000n, inProgress: [980n, 990n, 995n] }, [995n, 990n]);
    expect(bound).toBe(990n);
  });

  it("ignores transactions of other databases", () => {
    expect(completedTransactionsBound({ xmax: 1000n, inProgress: [900n, 990n] }, [990n])).toBe(990n);
  });

  it("ignores transactions that got their id after the snapshot (the issue-8 bug: the second of two open writers)", () => {
    // Two writers of this database: 1000 got its id before the snapshot, 1001 after it.
    // The old code widened 1001 into the previous epoch and read the whole log.
    const bound = completedTransactionsBound({ xmax: 1000n, inProgress: [] }, [1000n, 1001n]);
    expect(bound).toBe(1000n);
    expect(completedTransactionsBound({ xmax: 1001n, inProgress: [1000n] }, [1000n, 1001n, 1002n])).toBe(1000n);
  });

  it("is never above xmax and never below the oldest id running here", () => {
    const random = mulberry32(8);
    for (let trial = 0; trial < 500; trial++) {
      const xmax = BigInt(3 + Math.floor(random() * 1e9)) + BigInt(Math.floor(random() * 4)) * XID_EPOCH_SIZE;
      const inProgress = Array.from({ length: 5 }, () => xmax - 1n - BigInt(Math.floor(random() * 1000)));
      const after = Array.from({ length: 3 }, () => xmax + BigInt(Math.floor(random() * 1000)));
      const here = [...inProgress.filter(() => random() < 0.5), ...after];
      const bound = completedTransactionsBound({ xmax, inProgress }, here.map(low32));
      const runningHereBeforeSnapshot = inProgress.filter((x) => here.includes(x));
      expect(bound).toBe(runningHereBeforeSnapshot.reduce((min, x) => (x < min ? x : min), xmax));
    }
  });

  describe("at and across epoch boundaries", () => {
    it("matches a running transaction of the previous epoch while xmax is in the next", () => {
      const old = fullTransactionId(0, 4_294_967_290); // epoch 0, near the wrap
      const xmax = fullTransactionId(1, 5); // the counter has wrapped
      const bound = completedTransactionsBound({ xmax, inProgress: [old, fullTransactionId(1, 3)] }, [low32(old)]);
      expect(bound).toBe(old);
      expect(bound < xmax).toBe(true);
    });

    it("ignores a transaction of the new epoch that started after a snapshot taken just before the wrap", () => {
      const xmax = fullTransactionId(0, 4_294_967_295);
      const later = fullTransactionId(1, 3); // after the wrap: low bits 3, far "below" xmax's low bits
      expect(completedTransactionsBound({ xmax, inProgress: [] }, [low32(later)])).toBe(xmax);
    });

    it("keeps the epoch of the matching id, whatever the epoch number", () => {
      const epoch = 123_456;
      const running = fullTransactionId(epoch, 17);
      const xmax = fullTransactionId(epoch, 40);
      expect(completedTransactionsBound({ xmax, inProgress: [running] }, [17n])).toBe(running);
    });

    it("at epoch 0 never yields a value below the ids it was given (no negative widening)", () => {
      const bound = completedTransactionsBound({ xmax: 32_063n, inProgress: [32_062n] }, [32_062n, 32_064n, 32_065n]);
      expect(bound).toBe(32_062n);
      expect(bound >= 0n).toBe(true);
    });
  });
});
