// Test preload (bunfig.toml). The foundation fills this in: it builds the client bundle and
// prepares the migrated template database once per run. Pure unit tests need nothing from it.
export {};
