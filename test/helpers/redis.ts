/**
 * The Redis of the queue tests: ALIGNBENCH_TEST_REDIS_URL, set by .ci/run (Debian's redis-server on a spare
 * loopback port). Without it the tests are skipped with the reason, except under CI, where they must run.
 */
export function testRedisUrl(): string | undefined {
  const url = process.env.ALIGNBENCH_TEST_REDIS_URL;
  if (!url && process.env.CI === "true") throw new Error("CI=true but ALIGNBENCH_TEST_REDIS_URL is not set: .ci/run starts redis-server and sets it");
  return url;
}
