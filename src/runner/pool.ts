/**
 * Runs `worker` over the items of an async iterator with at most `concurrency` in flight. `shouldStop`
 * is checked before each new item: once true, no item starts, and the ones in flight finish.
 */
export async function runPool<T>(items: AsyncIterator<T>, concurrency: number, worker: (item: T) => Promise<void>, shouldStop: () => boolean): Promise<void> {
  let exhausted = false;
  let failed = false;
  const lane = async () => {
    while (!exhausted && !failed && !shouldStop()) {
      // Async generators queue concurrent next() calls, so lanes can share one iterator safely.
      const next = await items.next();
      if (next.done) {
        exhausted = true;
        return;
      }
      await worker(next.value);
    }
  };
  try {
    // One lane failing stops the others from starting items, and the pool returns (or throws) only once
    // every lane has finished: nothing may still be working when the caller closes what lanes use.
    const lanes = Array.from({ length: concurrency }, () =>
      lane().catch((error: unknown) => {
        failed = true;
        throw error;
      }),
    );
    const results = await Promise.allSettled(lanes);
    const rejected = results.find((result) => result.status === "rejected");
    if (rejected) throw (rejected as PromiseRejectedResult).reason;
  } finally {
    if (!exhausted) await items.return?.(undefined);
  }
}
