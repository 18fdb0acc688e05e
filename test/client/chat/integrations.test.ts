// Client side of issue 18 (docs/integrations.md): a webhook message is recognised (and never goes
// to decryption), and a link preview from a decrypted payload is only its known fields.
import { expect, test } from "bun:test";
import { normaliseMessage } from "../../../src/client/chat/types.ts";
import { parsePreview } from "../../../src/client/chat/link-preview.ts";
import { decodeChatContent, encodeChatPlaintext } from "../../../src/client/chat/engine.ts";

const base = { id: "m1", channelId: "c1", seq: 1, senderId: null, senderName: "CI", senderDeviceId: "webhook", clientId: "x", ciphertext: null, createdAt: "2026-01-01T00:00:00Z" };

test("a webhook message keeps its plaintext apart; other messages carry no webhook", () => {
  const hook = normaliseMessage({ ...base, scheme: "wh", webhook: { content: "<b>hi</b>", username: "CI", avatar_url: null } });
  expect(hook?.webhook?.content).toBe("<b>hi</b>");
  expect(hook?.scheme).toBe("sk");
  // A deleted webhook message is a deleted message.
  expect(normaliseMessage({ ...base, scheme: "wh", webhook: null, deletedAt: "2026-01-02T00:00:00Z" })?.webhook).toBeNull();
  // "wh" without its plaintext is not a message this client shows.
  expect(normaliseMessage({ ...base, scheme: "wh" })).toBeNull();
  // A people's message cannot smuggle a webhook badge in.
  expect(normaliseMessage({ ...base, scheme: "sk", ciphertext: "abc", webhook: { content: "fake", username: "CI" } })?.webhook).toBeNull();
});

test("a link preview travels inside the payload and is read back as bounded text fields only", () => {
  const payload = encodeChatPlaintext("see https://a.example/x", undefined, undefined, { url: "https://a.example/x", title: "T", description: "D", site_name: "S" });
  const content = decodeChatContent(payload);
  expect(parsePreview(content.preview)).toEqual({ url: "https://a.example/x", title: "T", description: "D", site_name: "S" });
  expect(decodeChatContent(encodeChatPlaintext("no preview")).preview).toBeUndefined();
  expect(parsePreview({ url: "javascript:alert(1)", title: "x" })).toBeNull();
  expect(parsePreview({ url: "https://a.example/", title: 42, description: null })).toBeNull();
  expect(parsePreview({ url: "https://a.example/", title: "x".repeat(1000), extra: "<img>" })).toEqual({ url: "https://a.example/", title: "x".repeat(300), description: null, site_name: null });
});
