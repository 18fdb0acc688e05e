/**
 * Runs s3rver (an S3-compatible server) in its own process for the tests: 127.0.0.1, a free port,
 * the data directory, key pair and bucket given as arguments. Prints {"port": N} once listening.
 * Then one line per request it finished, "REQ <epoch ms> <status> <method> <url>", so tests can
 * see what reached the server and when (e.g. that a large write was a multipart upload).
 * Started and stopped by test/helpers/s3rver.ts, not meant to be run by hand.
 *
 * What s3rver 3.7 does differently from S3, and what this file does about it:
 * - its continuation tokens use the cipher name "des", which Bun's crypto (BoringSSL) knows only
 *   as "des-cbc" (the same algorithm); the alias below lets truncated listings work under Bun;
 * - it lists keys in directory order, where S3 lists them in key order (and pages rely on it):
 *   directory entries are sorted below, which gives key order for keys like ours;
 * - it answers "Range: bytes=0-0" with the whole object (src/blobs/streams.ts takeBytes copes);
 * - it writes an object in place, so two concurrent PUTs of one key can interleave (S3 replaces
 *   atomically): the contract's same-key race is not run against it;
 * - it checks that the access key id exists but does not verify SigV4 signatures, so a wrong
 *   secret goes unnoticed here (a wrong key id does not).
 */
import crypto from "node:crypto";
import fs from "node:fs";

const [directory, accessKeyId, secretAccessKey, bucket] = process.argv.slice(2);
if (!directory || !accessKeyId || !secretAccessKey || !bucket) throw new Error("usage: s3rver-main.ts <dir> <key id> <secret> <bucket>");

const alias = (name: string) => (name === "des" ? "des-cbc" : name);
const { createCipheriv, createDecipheriv } = crypto;
Object.assign(crypto, {
  createCipheriv: (name: string, ...rest: unknown[]) => (createCipheriv as (...a: unknown[]) => unknown)(alias(name), ...rest),
  createDecipheriv: (name: string, ...rest: unknown[]) => (createDecipheriv as (...a: unknown[]) => unknown)(alias(name), ...rest),
});

const readdirSync = fs.readdirSync;
Object.assign(fs, {
  readdirSync: (...args: Parameters<typeof fs.readdirSync>) => {
    const entries = readdirSync(...args);
    return entries.every((e) => typeof e === "string") ? (entries as string[]).sort() : entries;
  },
});

const { default: S3rver } = await import("s3rver");
const { default: AWSAccount } = await import("s3rver/lib/models/account.js");
AWSAccount.DUMMY_ACCOUNT.revokeAccessKey("S3RVER");
AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory, vhostBuckets: false, configureBuckets: [{ name: bucket }] });
// Koa's request handler, wrapped to report each finished request.
const callback = server.callback.bind(server);
server.callback = () => {
  const handle = callback();
  return (req, res) => {
    res.on("finish", () => process.stdout.write(`REQ ${performance.timeOrigin + performance.now()} ${res.statusCode} ${req.method} ${req.url}\n`));
    return handle(req, res);
  };
};
const address = (await server.run()) as { port: number };
process.stdout.write(`${JSON.stringify({ port: address.port })}\n`);
process.on("SIGTERM", () => void server.close().finally(() => process.exit(0)));
