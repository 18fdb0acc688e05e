// The S3 blob store against a real S3-compatible server on loopback (s3rver): the shared
// contract, plus what only a bucket has (multipart uploads, a key prefix shared with other data,
// credentials and an endpoint that can be wrong).
import { afterAll, describe, expect, test } from "bun:test";
import { S3Client } from "bun";
import { BlobStoreUnavailableError, newBlobId, S3BlobStore, openBlobStore } from "../../src/blobs/index.ts";
import { PART_SIZE } from "../../src/blobs/s3.ts";
import { loadConfig } from "../../src/config.ts";
import { createLogger } from "../../src/log.ts";
import { startS3rver, type TestS3 } from "../helpers/s3rver.ts";
import { bytes, describeBlobStoreContract, lazyBody, readAll, sha256 } from "./contract.ts";

const s3 = await startS3rver();
if (!s3) console.warn("[skip] S3 tests of this file: s3rver did not start (reason printed above)");
afterAll(async () => {
  await s3?.stop();
});
const PREFIX = "contract/";

// Everything under the prefix as the bucket lists it: what a client of the bucket could see.
async function keysUnder(server: TestS3, prefix: string): Promise<string[]> {
  const client = new S3Client({ endpoint: server.endpoint, bucket: server.bucket, accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey, region: "us-east-1" });
  const keys: string[] = [];
  let continuationToken: string | undefined;
  do {
    const page = await client.list({ prefix, continuationToken });
    keys.push(...(page.contents ?? []).map((c) => c.key));
    continuationToken = page.isTruncated ? page.nextContinuationToken : undefined;
  } while (continuationToken);
  return keys.sort();
}

if (s3) {
  const store = openBlobStore(s3.storage(PREFIX));
  describeBlobStoreContract("s3", {
    store: () => store,
    visibleNames: () => keysUnder(s3, PREFIX),
    // Each pull is compared, afterwards, with the parts the server had finished by then (its own
    // timestamps: a part counts from when s3rver answered, before Bun even knew, so the lead
    // measured is never inflated by the log's delay, and never above what Bun really held).
    async measureLead(write) {
      const since = (await s3.finishedRequests()).length;
      const pulls: { at: number; pulled: number }[] = [];
      await write((pulled) => pulls.push({ at: performance.timeOrigin + performance.now(), pulled }));
      const parts = (await s3.finishedRequests()).slice(since).filter((r) => /^200 PUT .*partNumber=/.test(r.text)).map((r) => r.at);
      return Math.max(...pulls.map(({ at, pulled }) => pulled - parts.filter((done) => done < at).length * PART_SIZE));
    },
    // Bun keeps QUEUE_SIZE (2) parts in flight plus the one it is filling, and a chunk in hand.
    maxLeadBytes: 3 * PART_SIZE + 64 * 1024,
    largeBytes: 32 * 1024 * 1024,
    atomicReplace: "s3rver writes an object in place, two PUTs of one key interleave; S3 itself replaces atomically",
  });

  describe("s3 blob store: the bucket", () => {
    test("a part larger than 5 MiB goes up as a multipart upload (seen by the server), and reads back the same", async () => {
      const id = newBlobId();
      const before = (await s3.finishedRequests()).length;
      const { body, state } = lazyBody(12 * 1024 * 1024 + 1);
      await store.writePart(id, 0, body);
      const requests = (await s3.finishedRequests()).slice(before).map((r) => r.text).filter((r) => r.includes(id));
      expect(requests.filter((r) => /^200 POST .*\?uploads/.test(r))).toHaveLength(1);
      expect(requests.filter((r) => /^200 PUT .*partNumber=/.test(r))).toHaveLength(3);
      expect(requests.filter((r) => /^200 POST .*uploadId=/.test(r))).toHaveLength(1);
      expect(sha256(await readAll(await store.readBlob(id)))).toBe(state.hasher.digest("hex"));
      // A small part is one PUT.
      const small = newBlobId();
      const mark = (await s3.finishedRequests()).length;
      await store.writePart(small, 0, bytes(1000));
      expect((await s3.finishedRequests()).slice(mark).map((r) => r.text).filter((r) => r.includes(small) && r.includes("PUT"))).toEqual([expect.stringMatching(/^200 PUT \/hearth-test\/contract\/.*\/0000$/)]);
    });

    test("keys are <prefix>ab/cd/<id>/NNNN; other objects under the prefix are ignored and never deleted", async () => {
      const id = newBlobId();
      await store.writePart(id, 0, bytes(10));
      expect(await keysUnder(s3, `${PREFIX}${id.slice(0, 2)}/`)).toContain(`${PREFIX}${id.slice(0, 2)}/${id.slice(2, 4)}/${id}/0000`);
      const client = new S3Client({ endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey, region: "us-east-1" });
      const foreign = [`${PREFIX}README`, `${PREFIX}${id.slice(0, 2)}/${id.slice(2, 4)}/${id}/notes.txt`, `${PREFIX}00/00/${"1".repeat(32)}/0000`];
      for (const key of foreign) await client.write(key, "not a blob");
      const listed = [];
      let after;
      do {
        const page = await store.listBlobs({ after, limit: 1000 });
        listed.push(...page.blobs);
        after = page.next;
      } while (after);
      expect(listed.map((b) => b.id)).not.toContain("1".repeat(32));
      expect(listed.find((b) => b.id === id)?.parts).toEqual([{ index: 0, size: 10 }]);
      await store.deleteBlob(id);
      expect((await keysUnder(s3, PREFIX)).filter((k) => foreign.includes(k))).toEqual(foreign.sort());
      for (const key of foreign) await client.delete(key);
    });

    test("two prefixes in one bucket are two separate stores", async () => {
      const other = openBlobStore(s3.storage("other-instance/"));
      const id = newBlobId();
      await other.writePart(id, 0, bytes(5));
      expect(await store.statBlob(id)).toBeUndefined();
      expect((await store.listBlobs({ limit: 1000 })).blobs.map((b) => b.id)).not.toContain(id);
      expect((await other.statBlob(id))?.size).toBe(5);
    });

    test("the environment selects this store through config.ts", async () => {
      const config = loadConfig({ NODE_ENV: "test", ...s3.env("from-env") });
      const fromEnv = openBlobStore(config.files.storage);
      expect(fromEnv).toBeInstanceOf(S3BlobStore);
      expect(fromEnv.location).toBe(`${s3.endpoint}/${s3.bucket}/from-env/`);
      const id = newBlobId();
      await fromEnv.writePart(id, 0, bytes(3));
      expect(await keysUnder(s3, "from-env/")).toEqual([`from-env/${id.slice(0, 2)}/${id.slice(2, 4)}/${id}/0000`]);
    });

    test("an unknown access key or an unreachable endpoint: health check and writes fail with 503, logged without the secret", async () => {
      const logs: string[] = [];
      const log = createLogger("debug", {}, (line) => logs.push(line));
      const wrongKey = openBlobStore({ ...s3.storage(PREFIX), accessKeyId: "nobody", secretAccessKey: "s3cr3t-never-logged" }, log);
      expect(await wrongKey.checkHealth().catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
      expect(await wrongKey.writePart(newBlobId(), 0, bytes(10)).catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
      const down = openBlobStore({ ...s3.storage(PREFIX), endpoint: "http://127.0.0.1:1" }, log);
      expect(await down.checkHealth().catch((e: unknown) => e)).toBeInstanceOf(BlobStoreUnavailableError);
      expect(logs.some((line) => line.includes("InvalidAccessKeyId"))).toBe(true);
      expect(logs.some((line) => line.includes("ConnectionRefused"))).toBe(true);
      expect(logs.join("\n")).not.toContain("s3cr3t-never-logged");
      expect(logs.join("\n")).not.toContain(s3.secretAccessKey);
    });
  });
} else {
  test.skip("S3 blob store (s3rver did not start: see the [skip] line above)", () => {});
}
