/**
 * Test preload (bunfig.toml): builds the client bundle once per run so pages can reference it.
 * Databases are prepared lazily by test/helpers/db.ts, so pure unit tests pay nothing for them.
 */
import { buildClient } from "../scripts/build.ts";

await buildClient();
