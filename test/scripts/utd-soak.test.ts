// The unable-to-decrypt soak's short CI version (issue 11 §6; scripts/soak/README.md): a fixed
// seed and number of steps of simulated activity — sends, joins, leaves, kicks, reloads, new
// devices, revocations, offline periods — by 8 users driving the real browser engine against
// the real app. No device may be left unable to read a message it was entitled to. Timing is
// not asserted: the deadline a reader has is generous (a loaded 2-core box is slow, not wrong).
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { runSoak } from "../../scripts/soak/utd-sim.ts";

const SOAK = resolve(import.meta.dir, "../../scripts/soak");

describe("scripts/soak", () => {
  test("every script is in its README, and the benchmarks' README points there", () => {
    const readme = readFileSync(join(SOAK, "README.md"), "utf8");
    const scripts = readdirSync(SOAK).filter((f) => f.endsWith(".ts") && !f.endsWith("-sim.ts"));
    expect(scripts.length).toBeGreaterThan(0);
    expect(scripts.filter((f) => !readme.includes(`\`${f}\``))).toEqual([]);
    expect(readFileSync(join(SOAK, "../bench/README.md"), "utf8")).toContain("scripts/soak/README.md");
  });
});

describe("UTD soak (short)", () => {
  test("every entitled device reads every message; nothing is left undecryptable", async () => {
    const result = await runSoak({ seed: 11, steps: 110, users: 8, deadlineMs: 150_000 });
    const summary = { messages: result.messages, devices: result.devices, entitledReads: result.entitledReads, undecryptable: result.undecryptable, ttd: result.ttd, keyRequests: result.stats.keyRequestsSent, actions: result.actions };
    console.log(`[utd-soak] ${JSON.stringify(summary)}`);
    expect(result.failures).toEqual([]);
    expect(result.undecryptable).toBe(0);
    expect(result.messages).toBeGreaterThan(0);
    expect(result.entitledReads).toBeGreaterThan(result.messages);
    expect(result.devices).toBeGreaterThanOrEqual(8);
  }, 600_000);
});
