/**
 * The unable-to-decrypt soak (issue 11 §6; what it does: utd-sim.ts, scripts/soak/README.md).
 *
 *   TEST_DATABASE_URL=postgres://… bun scripts/soak/utd.ts --minutes 3 --seed 1
 *   bun scripts/soak/utd.ts --steps 200 --seed 7            (a fixed number of steps; PGlite)
 *
 * Flags: --minutes N (default 3), --steps N (stop after N steps; either bound ends the run),
 * --seed N (default 1), --users N (default 8), --deadline S (seconds a reader has from coming
 * online; default 10). DATABASE_URL is used when TEST_DATABASE_URL is not set. Exits 1 when a
 * device entitled to a message did not read it in time, listing each case.
 */
if (!process.env.TEST_DATABASE_URL && process.env.DATABASE_URL) process.env.TEST_DATABASE_URL = process.env.DATABASE_URL;
await (await import("../build.ts")).ensureClientBuild(); // the app serves pages: its asset manifest must exist
const { runSoak } = await import("./utd-sim.ts");

const arg = (name: string): number | undefined => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
};
const steps = arg("steps");
const minutes = arg("minutes") ?? (steps === undefined ? 3 : undefined);
const result = await runSoak({
  seed: arg("seed") ?? 1,
  steps,
  durationMs: minutes === undefined ? undefined : minutes * 60_000,
  users: arg("users") ?? 8,
  deadlineMs: (arg("deadline") ?? 10) * 1000,
  log: (line) => console.log(line),
});
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
console.log(`\nunable-to-decrypt soak, seed ${result.seed}, database ${process.env.TEST_DATABASE_URL ? "PostgreSQL" : "PGlite"}: ${result.steps} steps in ${result.seconds.toFixed(0)} s`);
console.log(`  actions: ${Object.entries(result.actions).map(([k, n]) => `${k} ${n}`).join(", ")}`);
console.log(`  messages: ${result.messages}`);
console.log(`  users: ${result.users}, devices: ${result.devices} (every device id that existed, set-up-again ones included)`);
console.log(`  entitled reads: ${result.entitledReads}`);
console.log(`  undecryptable (not read within ${(arg("deadline") ?? 10)} s of being due): ${result.undecryptable}`);
console.log(`  time to decrypt: p50 ${s(result.ttd.p50)}, p99 ${s(result.ttd.p99)}, max ${s(result.ttd.max)}`);
console.log(`  key requests sent: ${result.stats.keyRequestsSent} (${result.stats.keyRequestItems} items), keys accepted: ${result.stats.keysAccepted}, refusals: ${result.stats.refusalsSent}`);
console.log(`  sender key distributions sent: ${result.stats.distributionsSent}`);
console.log(`  to-device messages fetched: ${result.diag.toDeviceFetched}, read: ${result.diag.toDeviceRead} (the rest could not be decrypted)`);
console.log(`  entitlement answers: ${result.diag.entitled} entitled, refused ${JSON.stringify(result.diag.refused)}`);
console.log(`  requests the server refused: ${JSON.stringify(result.diag.errors)}`);
console.log(`  longest engine operation: waited ${s(result.diag.maxLockWaitMs)} for its lock, held it ${s(result.diag.maxLockHoldMs)}`);
if (result.undecryptable > 0) {
  console.log(`\nfailing cases:`);
  for (const f of result.failures) console.log(`  message ${f.message} in ${f.history} channel ${f.channel} from ${f.sender}: ${f.reader}'s device ${f.device}, due ${s(f.dueFor)}: ${f.outcome}\n    ${f.detail}${f.healedAfter !== undefined ? ` (read after ${s(f.healedAfter)})` : ""}`);
  process.exit(1);
}
process.exit(0);
