/** The one place that turns `config.files.storage` into a store. Nothing touches the disk or the network here. */
import type { FileStorage } from "../config.ts";
import type { Logger } from "../log.ts";
import { LocalBlobStore } from "./local.ts";
import { S3BlobStore } from "./s3.ts";
import type { BlobStore } from "./store.ts";

export function openBlobStore(storage: FileStorage, log?: Logger): BlobStore {
  return storage.kind === "s3" ? new S3BlobStore(storage, log) : new LocalBlobStore(storage.path, log);
}
