/**
 * Test preload (bunfig.toml): builds the client bundle once per run so pages can reference it.
 * Databases are prepared lazily by test/helpers/db.ts, so pure unit tests pay nothing for them.
 */
import { setDefaultTimeout } from "bun:test";
import { buildClient } from "../scripts/build.ts";

// Database setup, real processes and the browser need more than bun's 5 s default
// (bunfig.toml's [test] timeout does not reach hooks).
setDefaultTimeout(60_000);

await buildClient();
