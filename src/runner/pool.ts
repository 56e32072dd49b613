/**
 * Runs `worker` over the items of an async iterator with at most `concurrency` in flight. `shouldStop`
 * is checked before each new item: once true, no item starts, and the ones in flight finish.
 */
export async function runPool<T>(items: AsyncIterator<T>, concurrency: number, worker: (item: T) => Promise<void>, shouldStop: () => boolean): Promise<void> {
  let exhausted = false;
  const lane = async () => {
    while (!exhausted && !shouldStop()) {
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
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    if (!exhausted) await items.return?.(undefined);
  }
}
