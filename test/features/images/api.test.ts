/**
 * Public images, profiles and custom emoji over HTTP and WS (issue 17 §1–§4 acceptance):
 * served only as images (polyglot), nosniff and immutable caching; outsiders get 404 like an
 * unknown id; profile changes reach community mates and DM partners live and not a stranger;
 * emoji limits and codes; reactions validated against the set. PGlite, or PostgreSQL when
 * TEST_DATABASE_URL is set.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import sharp from "sharp";
import type { TestContext } from "../../helpers/app.ts";
import { listen } from "../../helpers/ws.ts";
import { client, expectOk, messagingContext, populatedCommunity, send, socketFor, type Client, type Populated } from "../messages/helpers.ts";
import { collectFiles } from "../../../src/features/files/index.ts";
import { animatedGif, HTML, jpegWithGps, png, pngBomb, pngHtmlPolyglot, POLYGLOT_MARKER, SVG } from "./fixtures.ts";

const T = 60_000;
let ctx: TestContext;
let p: Populated;
let wsUrl: string;

beforeAll(async () => {
  ctx = await messagingContext();
  p = await populatedCommunity(ctx);
  wsUrl = (await listen(ctx)).ws;
}, T);
afterAll(() => ctx.close(), 30_000);

async function upload(c: Client, method: string, path: string, bytes: Uint8Array, contentType = "image/png") {
  const res = await ctx.request(path, { method, headers: { ...c.headers, "content-type": contentType }, body: bytes as Uint8Array<ArrayBuffer> });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: res.status, body };
}
async function fetchImage(c: Client, url: string) {
  const res = await ctx.request(url, { headers: c.headers });
  return { res, bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe("avatars", () => {
  test("a PNG/HTML polyglot is re-encoded and served only as an image: image/webp, nosniff, no HTML, immutable", async () => {
    const r = await upload(p.member, "PUT", "/api/account/avatar", await pngHtmlPolyglot(), "text/html");
    expect(r.status).toBe(200);
    expect(r.body.avatar_url).toMatch(/^\/media\/[0-9a-f-]{36}\/[0-9a-f]{64}\.webp$/);
    const { res, bytes } = await fetchImage(p.owner, r.body.avatar_url);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("image/webp");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("cache-control")).toContain("immutable");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(Buffer.from(bytes).includes(POLYGLOT_MARKER)).toBe(false);
    expect(Buffer.from(bytes).includes("<html")).toBe(false);
    expect((await sharp(bytes).metadata()).format).toBe("webp");
  }, T);

  test("SVG, HTML and a decompression bomb are refused with codes; nothing is stored", async () => {
    const before = await ctx.database.db.selectFrom("images").select("id").execute();
    expect((await upload(p.member, "PUT", "/api/account/avatar", SVG, "image/png")).body.error.code).toBe("IMAGE_UNSUPPORTED");
    expect((await upload(p.member, "PUT", "/api/account/avatar", HTML, "image/png")).body.error.code).toBe("IMAGE_UNSUPPORTED");
    const bomb = await upload(p.member, "PUT", "/api/account/avatar", pngBomb());
    expect(bomb.status).toBe(413);
    expect(bomb.body.error.code).toBe("IMAGE_TOO_LARGE");
    expect((await ctx.database.db.selectFrom("images").select("id").execute()).length).toBe(before.length);
  }, T);

  test("EXIF/GPS of an uploaded JPEG is not in the served bytes", async () => {
    const r = await upload(p.admin, "PUT", "/api/account/avatar", await jpegWithGps(), "image/jpeg");
    expect(r.status).toBe(200);
    const { bytes } = await fetchImage(p.member, r.body.avatar_url);
    expect(Buffer.from(bytes).includes("SecretCamMaker")).toBe(false);
    expect((await sharp(bytes).metadata()).exif).toBeUndefined();
  }, T);

  test("a stranger gets 404 for the image, the profile and search — the same as for an unknown id", async () => {
    const r = await upload(p.moderator, "PUT", "/api/account/avatar", await png(300, 300));
    const stranger = p.outsider;
    const image = await fetchImage(stranger, r.body.avatar_url);
    expect(image.res.status).toBe(404);
    const unknownImage = await fetchImage(stranger, r.body.avatar_url.replace(/\/media\/[^/]+\//, `/media/${crypto.randomUUID()}/`));
    expect(unknownImage.res.status).toBe(404);
    const wrongHash = await fetchImage(p.member, r.body.avatar_url.replace(/[0-9a-f]{64}/, "0".repeat(64)));
    expect(wrongHash.res.status).toBe(404);

    const strangerView = await stranger.call("GET", `/api/users/${p.moderator.user.id}`);
    const unknownView = await stranger.call("GET", `/api/users/${crypto.randomUUID()}`);
    expect(strangerView.status).toBe(404);
    expect(strangerView).toEqual(unknownView);
    const mate = await expectOk(p.member.call("GET", `/api/users/${p.moderator.user.id}`));
    expect(mate.avatar_url).toBe(r.body.avatar_url);
    // The member list carries it too (the chat's member panel shows the image).
    const members = await expectOk(p.member.call("GET", `/api/communities/${p.communityId}/members`));
    expect(members.members.find((m: any) => m.user_id === p.moderator.user.id).avatar_url).toBe(r.body.avatar_url);
    expect(mate.username).toBe(p.moderator.user.username);

    const search = await expectOk(stranger.call("GET", `/api/users/search?q=${encodeURIComponent(p.moderator.user.username.slice(0, 4))}`));
    expect(search.users.some((u: any) => u.id === p.moderator.user.id)).toBe(false);
    const found = await expectOk(p.member.call("GET", `/api/users/search?q=${encodeURIComponent(p.moderator.user.username)}`));
    expect(found.users.map((u: any) => u.id)).toContain(p.moderator.user.id);
  }, T);

  test("without signing in: the image is a redirect to sign in (a page address), the profile API 401", async () => {
    const r = await upload(p.owner, "PUT", "/api/account/avatar", await png());
    const anonymous = await ctx.request(r.body.avatar_url);
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get("content-type") ?? "").not.toContain("image/");
    expect((await ctx.request(`/api/users/${p.owner.user.id}`)).status).toBe(401);
  }, T);

  test("replacing and removing an avatar deletes the old image; the files job keeps live image blobs", async () => {
    const c = await client(ctx);
    const first = await upload(c, "PUT", "/api/account/avatar", await png(100, 100, { r: 1, g: 2, b: 3 }));
    const second = await upload(c, "PUT", "/api/account/avatar", await png(100, 100, { r: 9, g: 9, b: 9 }));
    expect(second.body.avatar_url).not.toBe(first.body.avatar_url);
    expect((await fetchImage(c, first.body.avatar_url)).res.status).toBe(404);
    await collectFiles(ctx.deps, { orphanGraceMs: 0 });
    expect((await fetchImage(c, second.body.avatar_url)).res.status).toBe(200);
    expect((await c.call("DELETE", "/api/account/avatar")).status).toBe(204);
    expect((await fetchImage(c, second.body.avatar_url)).res.status).toBe(404);
    expect((await expectOk(c.call("GET", `/api/users/${c.user.id}`))).avatar_url).toBeNull();
  }, T);
});

describe("live profile changes", () => {
  test("an avatar or profile change reaches community mates and DM partners, not a stranger's open socket", async () => {
    const changer = p.member;
    // A DM partner who shares no community with the changer.
    const partner = await client(ctx);
    await ctx.database.db.updateTable("users").set({ allow_dms_from_anyone: true }).where("id", "=", partner.user.id).execute();
    await expectOk(changer.call("POST", "/api/dms", { user_id: partner.user.id }));
    const stranger = await client(ctx);
    const [mateSocket, partnerSocket, strangerSocket] = await Promise.all([socketFor(ctx, p.owner, wsUrl), socketFor(ctx, partner, wsUrl), socketFor(ctx, stranger, wsUrl)]);
    try {
      await upload(changer, "PUT", "/api/account/avatar", await png(80, 80, { r: 0, g: 255, b: 0 }));
      expect((await mateSocket.nextOfType("user:profile")).user_id).toBe(changer.user.id);
      expect((await partnerSocket.nextOfType("user:profile")).user_id).toBe(changer.user.id);
      await expectOk(changer.call("PUT", "/api/account/profile", { custom_status: "At the lake" }));
      expect((await mateSocket.nextOfType("user:profile")).user_id).toBe(changer.user.id);
      expect((await partnerSocket.nextOfType("user:profile")).user_id).toBe(changer.user.id);
      expect((await expectOk(partner.call("GET", `/api/users/${changer.user.id}`))).custom_status).toBe("At the lake");
      await strangerSocket.roundTrip();
      expect(strangerSocket.received.filter((f) => f.type === "user:profile")).toEqual([]);
    } finally {
      for (const s of [mateSocket, partnerSocket, strangerSocket]) s.close();
    }
  }, T);

  test("a nickname per community: set by the member, cleared with null; outsiders 404", async () => {
    const set = await expectOk(p.member.call("PUT", `/api/communities/${p.communityId}/nickname`, { nickname: "  Mem  " }));
    expect(set.nickname).toBe("Mem");
    const row = await ctx.database.db.selectFrom("community_members").select("nickname").where("community_id", "=", p.communityId).where("user_id", "=", p.member.user.id).executeTakeFirstOrThrow();
    expect(row.nickname).toBe("Mem");
    expect((await expectOk(p.member.call("PUT", `/api/communities/${p.communityId}/nickname`, { nickname: null }))).nickname).toBeNull();
    expect((await p.outsider.call("PUT", `/api/communities/${p.communityId}/nickname`, { nickname: "x" })).status).toBe(404);
  }, T);
});

describe("community icon, banner, welcome message", () => {
  test("edit_community sets them; members see them; a member without the permission gets 403, an outsider 404", async () => {
    const icon = await upload(p.admin, "PUT", `/api/communities/${p.communityId}/icon`, await png(600, 400));
    expect(icon.status).toBe(200);
    const banner = await upload(p.owner, "PUT", `/api/communities/${p.communityId}/banner`, await png(3000, 900));
    expect(banner.status).toBe(200);
    await expectOk(p.owner.call("PUT", `/api/communities/${p.communityId}/welcome`, { welcome_message: "Welcome! Read #rules first." }));
    const look = await expectOk(p.member.call("GET", `/api/communities/${p.communityId}/appearance`));
    expect(look.icon_url).toBe(icon.body.url);
    expect(look.banner_url).toBe(banner.body.url);
    expect(look.welcome_message).toBe("Welcome! Read #rules first.");
    // New members see it when they join through an invite (the invite page and its API).
    const invite = await expectOk(p.owner.call("POST", `/api/communities/${p.communityId}/invites`, {}), 201);
    const joining = await client(ctx);
    expect((await expectOk(joining.call("GET", `/api/community-invites/${invite.code}`))).welcome_message).toBe("Welcome! Read #rules first.");
    const invitePage = await ctx.request(`/invite/${invite.code}`, { headers: joining.headers });
    expect(await invitePage.text()).toContain("Welcome! Read #rules first.");
    const served = await fetchImage(p.member, banner.body.url);
    const meta = await sharp(served.bytes).metadata();
    expect(meta.width! <= 1920 && meta.height! <= 640).toBe(true);

    expect((await upload(p.member, "PUT", `/api/communities/${p.communityId}/icon`, await png())).body.error.code).toBe("PERMISSION_DENIED");
    expect((await p.member.call("PUT", `/api/communities/${p.communityId}/welcome`, { welcome_message: "x" })).status).toBe(403);
    for (const [method, path] of [
      ["GET", `/api/communities/${p.communityId}/appearance`],
      ["PUT", `/api/communities/${p.communityId}/welcome`],
      ["DELETE", `/api/communities/${p.communityId}/icon`],
      ["GET", `/api/communities/${p.communityId}/emoji`],
      ["DELETE", `/api/communities/${p.communityId}/emoji/party`],
    ] as const) {
      const r = await p.outsider.call(method, path, method === "PUT" ? { welcome_message: "x" } : undefined);
      expect(r.status).toBe(404);
    }
    expect((await upload(p.outsider, "PUT", `/api/communities/${p.communityId}/banner`, await png())).status).toBe(404);
    expect((await fetchImage(p.outsider, icon.body.url)).res.status).toBe(404);
    expect((await p.owner.call("DELETE", `/api/communities/${p.communityId}/icon`)).status).toBe(204);
    expect((await expectOk(p.member.call("GET", `/api/communities/${p.communityId}/appearance`))).icon_url).toBeNull();
  }, T);
});

describe("custom emoji", () => {
  test("shortcode rules, EMOJI_EXISTS, EMOJI_LIMIT at the 51st, manage_emoji needed", async () => {
    const cid = (await expectOk(p.owner.call("POST", "/api/communities", { name: "Emoji land" }), 201)).id;
    const add = (c: Client, shortcode: string, bytes: Uint8Array) => upload(c, "POST", `/api/communities/${cid}/emoji?shortcode=${encodeURIComponent(shortcode)}`, bytes);
    const first = await add(p.owner, "party_parrot", await animatedGif(4));
    expect(first.status).toBe(201);
    expect(first.body.emoji.animated).toBe(true);
    expect((await add(p.owner, "Party_Parrot", await png())).body.error.code).toBe("EMOJI_EXISTS");
    expect((await add(p.owner, "x", await png())).body.error.code).toBe("INVALID_SHORTCODE");
    expect((await add(p.owner, "has-dash", await png())).body.error.code).toBe("INVALID_SHORTCODE");
    expect((await add(p.owner, "a".repeat(33), await png())).body.error.code).toBe("INVALID_SHORTCODE");
    expect((await add(p.owner, "svg_one", SVG)).body.error.code).toBe("IMAGE_UNSUPPORTED");
    // Fill up to 50 directly (an image row each), then the 51st through the API.
    const now = new Date();
    for (let i = 1; i < 50; i++) {
      const imageId = crypto.randomUUID();
      const blob = crypto.getRandomValues(new Uint8Array(16));
      await ctx.database.db.insertInto("images").values({ id: imageId, blob_id: Buffer.from(blob).toString("hex"), sha256: "a".repeat(64), kind: "emoji", content_type: "image/webp", width: 1, height: 1, size: 1, animated: false, community_id: cid, created_at: now }).execute();
      await ctx.database.db.insertInto("community_emoji").values({ id: crypto.randomUUID(), community_id: cid, shortcode: `filler_${i}`, image_id: imageId, created_by: null, created_at: now }).execute();
    }
    const list = await expectOk(p.owner.call("GET", `/api/communities/${cid}/emoji`));
    expect(list.emoji.length).toBe(50);
    const fiftyFirst = await add(p.owner, "one_too_many", await png());
    expect(fiftyFirst.status).toBe(409);
    expect(fiftyFirst.body.error.code).toBe("EMOJI_LIMIT");

    // A plain member of the populated community may not add; an outsider gets 404.
    expect((await upload(p.member, "POST", `/api/communities/${p.communityId}/emoji?shortcode=nope`, await png())).status).toBe(403);
    expect((await upload(p.outsider, "POST", `/api/communities/${p.communityId}/emoji?shortcode=nope`, await png())).status).toBe(404);
  }, T);

  test("reactions: a known :name: is accepted, an unknown one refused; deleting the emoji leaves the reaction as text", async () => {
    const added = await upload(p.admin, "POST", `/api/communities/${p.communityId}/emoji?shortcode=hearth_fire`, await png(256, 256));
    expect(added.status).toBe(201);
    const emoji = added.body.emoji;
    expect((await fetchImage(p.member, emoji.url)).res.headers.get("content-type")).toBe("image/webp");
    expect((await fetchImage(p.outsider, emoji.url)).res.status).toBe(404);
    const sets = await expectOk(p.member.call("GET", "/api/emoji"));
    expect(sets.communities.find((c: any) => c.community_id === p.communityId).emoji.map((e: any) => e.shortcode)).toContain("hearth_fire");

    const m = await send(p.owner, p.generalChannelId);
    const unknown = await p.member.call("PUT", `/api/messages/${m.id}/reactions/${encodeURIComponent(":no_such_emoji:")}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe("EMOJI_NOT_FOUND");
    await expectOk(p.member.call("PUT", `/api/messages/${m.id}/reactions/${encodeURIComponent(":hearth_fire:")}`));
    expect((await p.member.call("DELETE", `/api/communities/${p.communityId}/emoji/hearth_fire`)).status).toBe(403);
    expect((await p.admin.call("DELETE", `/api/communities/${p.communityId}/emoji/hearth_fire`)).status).toBe(204);
    expect((await fetchImage(p.member, emoji.url)).res.status).toBe(404);
    const history = await expectOk(p.member.call("GET", `/api/channels/${p.generalChannelId}/messages`));
    const kept = history.messages.find((x: any) => x.id === m.id);
    expect(kept.reactions.map((r: any) => r.emoji)).toContain(":hearth_fire:");
    // Taking the orphaned reaction back still works; adding it again does not.
    expect((await p.member.call("DELETE", `/api/messages/${m.id}/reactions/${encodeURIComponent(":hearth_fire:")}`)).status).toBe(200);
    expect((await p.member.call("PUT", `/api/messages/${m.id}/reactions/${encodeURIComponent(":hearth_fire:")}`)).body.error.code).toBe("EMOJI_NOT_FOUND");
  }, T);
});

describe("the plaintext scan still covers the blob store", () => {
  test("image blobs and file ciphertext live in one store, and the scan reads both", async () => {
    const { scanBlobStore } = await import("../../helpers/plaintext-scan.ts");
    const r = await upload(p.owner, "PUT", "/api/account/avatar", await png(40, 40, { r: 7, g: 7, b: 7 }));
    const imageId = r.body.avatar_url.split("/")[2];
    const row = await ctx.database.db.selectFrom("images").select("blob_id").where("id", "=", imageId).executeTakeFirstOrThrow();
    // A file upload's ciphertext (the message path) carrying a control marker, in the same store.
    const marker = `SCAN-CONTROL-${crypto.randomUUID()}`;
    const start = await expectOk(p.owner.call("POST", "/api/files/uploads", { channel_id: p.generalChannelId, size: 100, part_size: 4112, chunk_size: 4096 }), 201);
    const part = Buffer.alloc(100);
    part.write(marker);
    const put = await ctx.request(`/api/files/uploads/${start.upload.id}/parts/0`, { method: "PUT", headers: { ...p.owner.headers, "content-type": "application/octet-stream" }, body: new Uint8Array(part) });
    expect(put.status).toBe(200);
    const seen: string[] = [];
    let markerFound = false;
    await scanBlobStore(ctx.config.files.storage, (what, bytes) => {
      seen.push(what);
      if (bytes.includes(marker)) markerFound = true;
    });
    expect(markerFound).toBe(true);
    expect(seen.some((what) => what.includes(row.blob_id))).toBe(true);
  }, T);
});

describe("deletion", () => {
  test("a deleted account takes its avatar row with it; the files job then removes the blob", async () => {
    const c = await client(ctx);
    const r = await upload(c, "PUT", "/api/account/avatar", await png(50, 50, { r: 3, g: 2, b: 1 }));
    const imageId = r.body.avatar_url.split("/")[2];
    const row = await ctx.database.db.selectFrom("images").select("blob_id").where("id", "=", imageId).executeTakeFirstOrThrow();
    await ctx.database.db.deleteFrom("users").where("id", "=", c.user.id).execute();
    expect(await ctx.database.db.selectFrom("images").select("id").where("id", "=", imageId).executeTakeFirst()).toBeUndefined();
    const before = await ctx.deps.blobs!.statBlob(row.blob_id as never);
    expect(before).toBeDefined();
    await collectFiles(ctx.deps, { orphanGraceMs: 0 });
    expect(await ctx.deps.blobs!.statBlob(row.blob_id as never)).toBeUndefined();
  }, T);
});
