/**
 * hearthctl: what an operator needs when the web UI is out of reach (issue 15 §4, docs/admin.md
 * "Command line"). `bun run hearthctl <command>`, or in Docker `docker compose run --rm hearth run
 * hearthctl <command>`. It reads the server's configuration (environment / .env), opens the same
 * database and calls the same services as the admin area; actions are recorded in the audit log
 * with the user agent "hearthctl" and, where a service needs an acting admin, the owner as actor.
 *
 * Every command is idempotent (suspending a suspended user succeeds and says so). Exit codes:
 *   0  done                      1  a check failed (audit chain broken, anchor mismatch)
 *   2  usage error               3  not found or refused (unknown user, the owner as target)
 *   4  cannot run here (configuration, database unreachable or locked by a running server)
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "../config.ts";
import type { AppDeps } from "../deps.ts";
import { DataDirLockedError } from "../db/dir-lock.ts";
import { migrate } from "../db/migrate.ts";
import { openDatabase, type Database } from "../db/open.ts";
import { noEvents } from "../db/tx.ts";
import { AppError } from "../errors.ts";
import { createLogger } from "../log.ts";
import { loadSecrets, MissingSecretsError } from "../secrets.ts";
import { onSessionsRevoked } from "../features/auth/index.ts";
import { Hub } from "../ws/hub.ts";
import { RedisFanout } from "../ws/fanout-redis.ts";
import { openSealed, SealError } from "../features/data-rights/index.ts";
import { COMMANDS, runCommand, UsageError, type CliContext } from "./commands.ts";

export const EXIT = { ok: 0, checkFailed: 1, usage: 2, notFound: 3, cannotRun: 4 } as const;

const HELP = `Usage: bun run hearthctl <command> [options]

${COMMANDS.flatMap((c) => c.help.map(([usage, what]) => `  ${usage.padEnd(58)} ${what}`)).join("\n")}
  ${"export decrypt FILE --out OUT".padEnd(58)} decrypt an admin export (hearth-sealed v1); the passphrase
  ${"".padEnd(58)} from HEARTH_EXPORT_PASSPHRASE or the first line of stdin

Options everywhere: --json (machine-readable output), -h/--help.
Exit codes: 0 done, 1 check failed, 2 usage, 3 not found or refused, 4 cannot run here.
With the embedded database, stop the server first (it holds the database); with PostgreSQL it
can run beside the server (with REDIS_URL, open sockets of affected users close at once; without,
within the server's 30-second session sweep).`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      help: { type: "boolean", short: "h" },
      json: { type: "boolean" },
      reason: { type: "string" },
      anchor: { type: "string" },
      filter: { type: "string" },
      "max-uses": { type: "string" },
      "expires-hours": { type: "string" },
      powers: { type: "string" },
      out: { type: "string" },
    },
  });
  if (values.help || positionals.length === 0) {
    process.stdout.write(`${HELP}\n`);
    return positionals.length === 0 && !values.help ? EXIT.usage : EXIT.ok;
  }
  // Needs no configuration or database: it may run on another machine than the server.
  if (positionals[0] === "export") return decryptExport(positionals, values.out);
  const config = loadConfig(process.env);
  const log = createLogger("warn", { service: "hearthctl" }, (line) => process.stderr.write(`${line}\n`));
  const secrets = loadSecrets(config, log);
  let database: Database;
  try {
    database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, log);
  } catch (error) {
    if (error instanceof DataDirLockedError) throw new CannotRun(`${error.message}\nThe server holds the embedded database: stop it first (or run Hearth on PostgreSQL).`);
    throw new CannotRun(`Could not open the database: ${error instanceof Error ? error.message : String(error)}`);
  }
  let hub: Hub | undefined;
  try {
    await migrate(database.db, log);
    // With Redis, events (sockets to close, sessions ended) reach every running instance now.
    if (config.redisUrl) {
      hub = new Hub({ log, fanout: new RedisFanout(config.redisUrl, `hearthctl-${crypto.randomUUID()}`, log), version: config.version });
      await hub.start();
    }
    // The services take AppDeps; the CLI serves no pages, files or sockets, so those parts are absent.
    const deps = { config, database, log, secrets, events: hub ?? noEvents, hub } as unknown as AppDeps;
    // As src/ws/routes.ts does in the server: ended sessions close their sockets on every instance.
    if (hub) onSessionsRevoked(deps, (userId, sessionIds) => hub!.closeUserSockets(userId, sessionIds, "session_revoked"));
    const ctx: CliContext = { deps, json: values.json === true, out: (text) => process.stdout.write(`${text}\n`), options: values };
    return await runCommand(ctx, positionals);
  } finally {
    await hub?.stop().catch(() => {});
    await database.close().catch(() => {});
  }
}

class CannotRun extends Error {}

/** `export decrypt FILE --out OUT`: exit 0 written, 1 wrong passphrase or damaged file, 2 usage. */
async function decryptExport(positionals: string[], out: string | undefined): Promise<number> {
  const file = positionals[2];
  if (positionals[1] !== "decrypt" || !file || positionals.length > 3 || !out) throw new UsageError("Usage: hearthctl export decrypt FILE --out OUT");
  let passphrase = process.env.HEARTH_EXPORT_PASSPHRASE;
  if (passphrase === undefined) {
    process.stderr.write("Passphrase: ");
    passphrase = (await new Response(Bun.stdin.stream()).text()).split(/\r?\n/)[0] ?? "";
  }
  if (!(await Bun.file(file).exists())) throw new UsageError(`No such file: ${file}`);
  try {
    const plain = await openSealed(new Uint8Array(await Bun.file(file).arrayBuffer()), passphrase);
    await Bun.write(out, plain);
  } catch (error) {
    if (!(error instanceof SealError)) throw error;
    process.stderr.write(`hearthctl: ${error.message}\n`);
    return EXIT.checkFailed;
  }
  process.stdout.write(`Decrypted to ${out} (a zip).\n`);
  return EXIT.ok;
}

if (import.meta.main) {
  let code: number;
  try {
    code = await main(process.argv.slice(2));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof UsageError || (error instanceof TypeError && "code" in error && String((error as { code: unknown }).code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`hearthctl: ${message}\nRun bun run hearthctl --help for the commands.\n`);
      code = EXIT.usage;
    } else if (error instanceof AppError && error.status < 500) {
      process.stderr.write(`hearthctl: ${error.publicMessage}\n`);
      code = error.status === 400 ? EXIT.usage : EXIT.notFound;
    } else if (error instanceof CannotRun || error instanceof ConfigError || error instanceof MissingSecretsError) {
      process.stderr.write(`hearthctl: ${message}\n`);
      code = EXIT.cannotRun;
    } else {
      process.stderr.write(`hearthctl: unexpected error: ${error instanceof Error ? (error.stack ?? message) : message}\n`);
      code = EXIT.cannotRun;
    }
  }
  process.exit(code);
}
