// Files inside a message's plaintext (engine.ts ChatContent, file-ref.ts): text-only messages
// keep the v1 form byte for byte, a message with files adds `files`, and a reader checks each
// file's description before fetching anything (a modified client can write anything there).
import { describe, expect, test } from "bun:test";
import { decodeChatContent, decodeChatPlaintext, encodeChatPlaintext } from "../../../src/client/chat/engine.ts";
import { describeFile, formatSize, readSentFile } from "../../../src/client/chat/file-ref.ts";
import type { UploadState } from "../../../src/client/files/index.ts";

const state = (id: string): UploadState => ({ id, key: new Uint8Array(32).fill(7), header: { chunkSize: 65_536, noncePrefix: new Uint8Array(7).fill(3) }, plaintextSize: 10, size: 26, partSize: 65_552, partCount: 1 });
const ID = "7d0f6c1e-7a86-4b59-9d5a-2b1c0e6f9a10";
const THUMB = "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d";

describe("chat plaintext with files", () => {
  test("text only: the v1 form, unchanged; an old reader's decode still reads a message with files (its caption)", () => {
    expect(new TextDecoder().decode(encodeChatPlaintext("hi"))).toBe('{"v":1,"text":"hi"}');
    expect(new TextDecoder().decode(encodeChatPlaintext("hi", []))).toBe('{"v":1,"text":"hi"}');
    const withFiles = encodeChatPlaintext("caption", [{ id: ID }]);
    expect(decodeChatPlaintext(withFiles)).toBe("caption");
    expect(decodeChatContent(withFiles)).toEqual({ text: "caption", files: [{ id: ID }] });
    expect(decodeChatContent(encodeChatPlaintext("plain"))).toEqual({ text: "plain" });
    expect(() => decodeChatContent(new TextEncoder().encode('{"v":2,"text":"x"}'))).toThrow();
  });

  test("a file's description round-trips: id, key, header, name, type, size, dimensions, thumbnail", () => {
    const described = describeFile(state(ID), { name: "photo.jpg", type: "image/jpeg", size: 10, width: 64, height: 48 }, { state: state(THUMB), width: 32, height: 24 });
    const file = readSentFile(JSON.parse(JSON.stringify(described)))!;
    expect(file.id).toBe(ID);
    expect(file.key).toEqual(new Uint8Array(32).fill(7));
    expect(file.header).toEqual({ chunkSize: 65_536, noncePrefix: new Uint8Array(7).fill(3) });
    expect([file.name, file.type, file.size, file.width, file.height]).toEqual(["photo.jpg", "image/jpeg", 10, 64, 48]);
    expect(file.thumb?.id).toBe(THUMB);
    expect([file.thumb?.width, file.thumb?.height, file.thumb?.type]).toEqual([32, 24, "image/jpeg"]);
  });

  test("hostile descriptions are refused or defused before anything is fetched", () => {
    const good = describeFile(state(ID), { name: "a.pdf", type: "application/pdf", size: 10 }) as Record<string, unknown>;
    expect(readSentFile(good)).not.toBeNull();
    for (const bad of [null, "x", 1, [], { ...good, id: "../../etc/passwd" }, { ...good, key: "AAAA" }, { ...good, header: { v: 1, chunkSize: 1, noncePrefix: "AA" } }, { ...good, size: -1 }, { ...good, size: 1.5 }, { ...good, type: "text/html; charset=utf-8" }, { ...good, name: 5 }]) {
      expect({ bad, file: readSentFile(bad) }).toEqual({ bad, file: null });
    }
    // Paths and control characters leave the name; a bad thumbnail or dimension is dropped, not the file.
    const odd = readSentFile({ ...good, name: "../evil\u0000\nname.exe", width: -5, thumb: { id: "nope" } })!;
    expect(odd.name).toBe(".._evil__name.exe");
    expect(odd.width).toBeUndefined();
    expect(odd.thumb).toBeUndefined();
  });

  test("sizes read as people write them", () => {
    expect([formatSize(512), formatSize(2048), formatSize(5 * 1024 * 1024), formatSize(150 * 1024 * 1024)]).toEqual(["512 B", "2.0 KB", "5.0 MB", "150 MB"]);
  });
  test("a WebM's codecs travel with it (the reader streams it into a MediaSource); anything else in `codecs` is dropped", () => {
    const described = describeFile(state(ID), { name: "note.webm", type: "audio/webm", size: 10, codecs: "opus" });
    expect(readSentFile(JSON.parse(JSON.stringify(described)))!.codecs).toBe("opus");
    expect(readSentFile({ ...described, codecs: "VP8,Opus" })!.codecs).toBe("vp8,opus");
    for (const bad of ['opus"; x', "a,b,c", "", 7, "opus avc1"]) expect(readSentFile({ ...described, codecs: bad })!.codecs).toBeUndefined();
    expect(describeFile(state(ID), { name: "x.webm", type: "video/webm", size: 1, codecs: 'vp8" onload' }).codecs).toBeUndefined();
  });
});
