// FILE_STORAGE_URL and the S3_* variables: which store is selected, and every inconsistent
// combination stops the boot with one listing that never echoes a secret.
import { describe, expect, test } from "bun:test";
import { ConfigError, loadConfig } from "../../src/config.ts";

const problemsOf = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
};

const KEYS = { S3_ACCESS_KEY_ID: "hearth-key", S3_SECRET_ACCESS_KEY: "very-secret-value-0123" };

describe("file storage configuration", () => {
  test("unset = the local directory, FILE_STORAGE_PATH or DATA_DIR/files", () => {
    expect(loadConfig({ DATA_DIR: "/srv/hearth" }).files.storage).toEqual({ kind: "local", path: "/srv/hearth/files" });
    expect(loadConfig({ FILE_STORAGE_PATH: "/mnt/blobs" }).files.storage).toEqual({ kind: "local", path: "/mnt/blobs" });
  });

  test("s3://bucket/prefix with keys selects S3; endpoint is normalised to its origin; prefix ends with /", () => {
    const storage = loadConfig({ FILE_STORAGE_URL: "s3://hearth-files/prod/eu", S3_ENDPOINT: "http://127.0.0.1:9000/", S3_REGION: "auto", ...KEYS }).files.storage;
    expect(storage).toEqual({
      kind: "s3", bucket: "hearth-files", prefix: "prod/eu/", endpoint: "http://127.0.0.1:9000", region: "auto",
      accessKeyId: "hearth-key", secretAccessKey: "very-secret-value-0123",
    });
    const aws = loadConfig({ FILE_STORAGE_URL: "s3://hearth-files", ...KEYS }).files.storage;
    expect(aws).toMatchObject({ prefix: "", endpoint: "https://s3.us-east-1.amazonaws.com", region: "us-east-1" });
  });

  test("every bad combination is listed at once, and no secret is echoed", () => {
    const problems = problemsOf({ FILE_STORAGE_URL: "s3://AK:very-secret-value-0123@Bad_Bucket/../x", S3_ENDPOINT: "https://s3.example.com/bucket?x=1", S3_REGION: "Mars 1" });
    const text = problems.join("\n");
    expect(problems.filter((p) => p.startsWith("FILE_STORAGE_URL"))).toHaveLength(1);
    expect(text).toContain("S3_ACCESS_KEY_ID is required");
    expect(text).toContain("S3_SECRET_ACCESS_KEY is required");
    expect(text).toContain("S3_ENDPOINT is invalid: expected the service's origin only");
    expect(text).toContain("S3_REGION=");
    expect(text).not.toContain("very-secret-value-0123");
    expect(text).not.toContain("AK:");
  });

  test("S3 settings without FILE_STORAGE_URL stop the boot instead of silently using the local disk", () => {
    const problems = problemsOf({ S3_ENDPOINT: "https://s3.example.com", ...KEYS });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain("S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY are set but FILE_STORAGE_URL is not");
    expect(problems[0]).not.toContain("very-secret-value-0123");
  });

  test("bucket names and prefixes outside the strict patterns are refused", () => {
    for (const url of ["s3://", "s3://ab", "s3://-bucket", "s3://bucket/.hidden", "s3://bucket//x", "s3://bucket/a/../b", "file:///srv/files", "https://bucket.s3.amazonaws.com"]) {
      expect({ url, problems: problemsOf({ FILE_STORAGE_URL: url, ...KEYS }).length }).toEqual({ url, problems: 1 });
    }
  });

  test("warnings: FILE_STORAGE_PATH ignored with S3, plain http to a remote endpoint in production, a session token Bun would add", () => {
    const warnings: string[] = [];
    loadConfig({ NODE_ENV: "production", FILE_STORAGE_URL: "s3://hearth", FILE_STORAGE_PATH: "/srv/files", S3_ENDPOINT: "http://10.0.0.5:9000", AWS_SESSION_TOKEN: "tok", ...KEYS }, warnings);
    expect(warnings.join("\n")).toContain("FILE_STORAGE_PATH is ignored");
    expect(warnings.join("\n")).toContain("S3_ENDPOINT uses plain http to 10.0.0.5:9000");
    expect(warnings.join("\n")).toContain("AWS_SESSION_TOKEN is set in the environment");
    const loopback: string[] = [];
    loadConfig({ NODE_ENV: "production", FILE_STORAGE_URL: "s3://hearth", S3_ENDPOINT: "http://127.0.0.1:9000", ...KEYS }, loopback);
    expect(loopback).toEqual([]);
  });
});
