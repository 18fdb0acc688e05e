/** Helpers for the files tests: start an upload, send parts, download, through app.handle. */
import type { TestContext } from "../../helpers/app.ts";
import { expectOk, type Client } from "../messages/helpers.ts";

export const CHUNK = 4096;
export const SEALED = CHUNK + 16;

/** Starts a session for `bytes` and sends them in parts of `chunksPerPart` sealed 4 KiB chunks. */
export async function upload(ctx: TestContext, c: Client, channelId: string, bytes: Uint8Array, chunksPerPart = 4): Promise<{ id: string; status: number; body: any }> {
  const start = await c.call("POST", "/api/files/uploads", { channel_id: channelId, size: bytes.length, part_size: SEALED * chunksPerPart, chunk_size: CHUNK });
  if (start.status !== 201) return { id: "", ...start };
  const u = start.body.upload;
  let last: { status: number; body: any } = start;
  for (let part = 0; part < u.part_count; part++) {
    last = await putPart(ctx, c, u.id, part, bytes.subarray(part * u.part_size, (part + 1) * u.part_size));
    if (last.status !== 200) return { id: u.id, ...last };
  }
  return { id: u.id, ...last };
}

export async function putPart(ctx: TestContext, c: Client, id: string, part: number, body: Uint8Array | ReadableStream<Uint8Array>, type = "application/octet-stream"): Promise<{ status: number; body: any }> {
  const res = await ctx.request(`/api/files/uploads/${id}/parts/${part}`, { method: "PUT", headers: { ...c.headers, "content-type": type }, body, duplex: "half" } as RequestInit);
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** A body without Content-Length (chunked), in `pieces` chunks. */
export function chunked(bytes: Uint8Array, pieces = 4): ReadableStream<Uint8Array> {
  const step = Math.ceil(bytes.length / pieces);
  let at = 0;
  return new ReadableStream({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + step));
      at += step;
    },
  });
}

export async function download(ctx: TestContext, c: Client, id: string, range?: string): Promise<{ status: number; bytes: Uint8Array; headers: Headers }> {
  const res = await ctx.request(`/api/files/${id}`, { headers: { ...c.headers, ...(range ? { range } : {}) } });
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()), headers: res.headers };
}

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

export async function quotaOf(c: Client): Promise<number> {
  return (await expectOk(c.call("GET", "/api/files/quota"))).used_bytes;
}
