/**
 * Bench and test entry: Hearth's src/main.ts plus a SIGUSR2 handler that forces a full, synchronous
 * garbage collection and logs the RSS after it ("bench.gc"). A bench signals it before a phase
 * so the phase's RSS growth is measured from a collected baseline, not from whatever garbage the
 * previous phase left (scripts/bench/files.ts, test/features/files/*-process.test.ts). Hearth itself never loads it.
 */
process.on("SIGUSR2", () => {
  Bun.gc(true);
  console.log(JSON.stringify({ msg: "bench.gc", rss: process.memoryUsage.rss() }));
});
await import("../../src/main.ts");
