/**
 * Process concerns only: load config -> secrets -> open database -> migrate -> create app ->
 * listen; signals for a clean shutdown. Anything that fails here exits with code 1 and a message
 * an operator can act on.
 */
import { ConfigError, loadConfig, type ConfigWarnings } from "./config.ts";
import { createLogger } from "./log.ts";
import { loadSecrets, MissingSecretsError } from "./secrets.ts";
import { openDatabase, type Database } from "./db/open.ts";
import { DataDirLockedError } from "./db/dir-lock.ts";
import { migrate, MigrationError } from "./db/migrate.ts";
import { loadAssets, MissingBuildError } from "./http/assets.ts";
import { createApp } from "./app.ts";
import { ensureInstanceId } from "./db/instance.ts";
import { announceSetupToken, ensureSetupToken, grantConfiguredAdmin } from "./features/auth/setup.ts";
import { startAuthHousekeeping } from "./features/auth/housekeeping.ts";
import { installMessaging, startMessageJobs } from "./features/messages/index.ts";
import { startFileJobs } from "./features/files/index.ts";
import { startPushJobs } from "./features/notifications/index.ts";
import { startAuditJobs } from "./features/audit/index.ts";
import { installVoice } from "./features/voice/index.ts";
import { Hub } from "./ws/hub.ts";
import { LocalFanout } from "./ws/fanout-local.ts";
import { RedisFanout } from "./ws/fanout-redis.ts";
import { RedisSocketCounter } from "./ws/socket-count.ts";
import { RedisRateLimitStore } from "./http/rate-limit-redis.ts";
import { BlobStoreUnavailableError, openBlobStore } from "./blobs/index.ts";
import { PROCESS_UMASK, restrictDataDir } from "./data-dir.ts";
import { startMetricsServer } from "./metrics/server.ts";
import { startMailOutbox } from "./mail/outbox.ts";

// Before anything creates a file: the database, secrets and uploads are for this user only.
process.umask(PROCESS_UMASK);

function fail(message: string): never {
  process.stderr.write(`hearth: ${message}\n`);
  process.exit(1);
}

const bootStarted = performance.now();
const warnings: ConfigWarnings = [];
let config;
try {
  config = loadConfig(process.env, warnings);
} catch (error) {
  if (error instanceof ConfigError) fail(`${error.message}\nSee .env.example for every variable and its allowed values.`);
  throw error;
}
const log = createLogger(config.logLevel, { service: "hearth" });
for (const warning of warnings) log.warn("config.warning", { warning });

// DATA_DIR 0700, and nothing already in it readable by group or others (an older version, an
// image or an operator's mkdir left it 0755; PGlite's first unpack left files 0666).
try {
  const { fixed, failed } = restrictDataDir(config.dataDir);
  if (fixed.length > 0) log.warn("data_dir.permissions_fixed", { dir: config.dataDir, count: fixed.length, examples: fixed.slice(0, 5), note: "Group/other permissions were removed from DATA_DIR and its contents: only the Hearth user may read them." });
  if (failed.length > 0) log.warn("data_dir.permissions_unfixable", { dir: config.dataDir, count: failed.length, examples: failed.slice(0, 5), note: "These paths stay readable by other users: change their owner to the Hearth user, or their mode, by hand." });
} catch (error) {
  fail(`Could not create or secure DATA_DIR ${config.dataDir}: ${error instanceof Error ? error.message : String(error)}`);
}

let secrets;
try {
  secrets = loadSecrets(config, log);
} catch (error) {
  if (error instanceof MissingSecretsError) fail(error.message);
  throw error;
}

let assets;
try {
  assets = loadAssets(config.staticDir);
} catch (error) {
  if (error instanceof MissingBuildError) fail(error.message);
  throw error;
}

// File storage: nothing is created here (the local directory appears on the first upload); a
// store that cannot be used (unwritable directory, wrong S3 endpoint, bucket or key) stops the boot.
const blobs = openBlobStore(config.files.storage, log);
try {
  await blobs.checkHealth();
} catch (error) {
  const reason = error instanceof BlobStoreUnavailableError ? error.reason : error instanceof Error ? error.message : String(error);
  fail(`File storage ${blobs.kind} ${blobs.location} is not usable: ${reason}`);
}

let database: Database;
try {
  database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }, log);
} catch (error) {
  if (error instanceof DataDirLockedError) fail(error.message);
  fail(`Could not open the database: ${error instanceof Error ? error.message : String(error)}`);
}

try {
  await migrate(database.db, log);
} catch (error) {
  await database.close().catch(() => {});
  if (error instanceof MigrationError) fail(error.message);
  fail(`Database migration failed: ${error instanceof Error ? error.message : String(error)}`);
}

const instanceId = await ensureInstanceId(database.db);
// First run: the owner account needs a one-time setup token (printed below once listening).
const setupToken = await ensureSetupToken({ database, config, log });
await grantConfiguredAdmin({ database, config, log });
// Each process gets its own id for the fan-out (the database's instance id is shared by all).
const processId = crypto.randomUUID();
const fanout = config.redisUrl ? new RedisFanout(config.redisUrl, processId, log) : new LocalFanout();
// With Redis the per-user socket cap counts every process's sockets (expiring per-process counts).
const socketCounter = config.redisUrl ? new RedisSocketCounter(config.redisUrl, processId) : undefined;
const hub = new Hub({ log, fanout, version: config.version, socketCounter });
try {
  await hub.start();
} catch (error) {
  await database.close().catch(() => {});
  fail(`Could not connect to Redis at REDIS_URL: ${error instanceof Error ? error.message : String(error)}`);
}
const rateLimitStore = config.redisUrl ? RedisRateLimitStore.connect(config.redisUrl, log) : undefined;
const deps = { config, database, log, secrets, events: hub, hub, assets, blobs, rateLimitStore };
const app = createApp(deps);
const stopHousekeeping = startAuthHousekeeping(deps);
const stopMessageJobs = startMessageJobs(deps);
const stopFileJobs = startFileJobs(deps);
const stopPushJobs = startPushJobs(deps);
const stopAuditJobs = startAuditJobs(deps);
// The mail outbox (meeting invitations, email confirmation links); idle when email is off.
const stopMailOutbox = startMailOutbox(deps);
// createApp installed messaging on this hub; asking again returns its `stop` (idempotent).
const stopMessaging = installMessaging(deps, hub);
// Likewise for voice: its stop drops its timers and waits for its queries before the hub stops.
const stopVoice = installVoice(deps, hub);
// Bun's server-wide body limit comes from createApp (the largest route budget).
app.listen({ hostname: config.listen.hostname, port: config.listen.port });
// METRICS_ADDR: GET /metrics on its own listener (the public address then answers 404 for it).
let metricsServer: ReturnType<typeof startMetricsServer> | undefined;
if (config.metrics.listen) {
  try {
    metricsServer = startMetricsServer({ ...config.metrics.listen, token: config.metrics.token, log });
  } catch (error) {
    fail(`Could not listen on METRICS_ADDR ${config.metrics.listen.hostname}:${config.metrics.listen.port}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
// The signal handlers before "server.listening": whoever waits for that line may stop the server
// at once, and a SIGTERM that arrived before the handler was installed would kill the process
// without a clean shutdown (exit 143; seen on a loaded machine).
let stopping = false;
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
// Before "server.listening": whoever waits for that line finds the setup link already logged.
if (setupToken) announceSetupToken({ config, log }, setupToken, `http://${config.listen.hostname === "0.0.0.0" ? "localhost" : config.listen.hostname}:${app.server?.port ?? config.listen.port}`);
log.info("server.listening", {
  address: `${config.listen.hostname}:${app.server?.port ?? config.listen.port}`,
  version: config.version,
  database: database.kind,
  instance_id: instanceId,
  process_id: processId,
  fanout: fanout.kind,
  file_storage: `${blobs.kind} ${blobs.location}`,
  boot_ms: Math.round(performance.now() - bootStarted),
});

async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info("server.stopping", { signal });
  // Everything that may still query the database first (jobs, an activity flush in flight,
  // presence and typing timers via hub.stop), then the server, then the database: close never
  // waits on a query started after it.
  stopHousekeeping();
  await stopMessageJobs();
  await stopFileJobs();
  await stopPushJobs();
  await stopAuditJobs();
  await stopMailOutbox();
  await stopMessaging().catch(() => {});
  // Before the hub: closing its sockets must not start graces (other instances free the seats).
  await stopVoice().catch(() => {});
  await hub.stop().catch(() => {});
  await app.stop().catch(() => {});
  await metricsServer?.stop().catch(() => {});
  rateLimitStore?.close();
  await database.close().catch(() => {});
  process.exit(0);
}
