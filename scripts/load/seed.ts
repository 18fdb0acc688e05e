/**
 * The load harness's fixture (scripts/load/README.md): N real accounts, communities whose sizes
 * follow a Zipf-like law, text channels in each, and one registered E2EE device per user, written
 * straight into a fresh, migrated database before the server starts.
 *
 * Accounts are real rows with a real argon2id hash: one hash of the shared load-test password is
 * computed once (src/features/auth/passwords.ts, the server's own parameters) and stored for
 * everybody. Signing in therefore costs the server exactly one real verification per login, as
 * for any user; only the salt is shared, which matters nowhere in a throwaway database.
 *
 * Topology (deterministic for a given N and seed):
 *   - community 0 ("town square"): every user;
 *   - communities 1..C-1 (C = ceil(N / 25), at least 2): each user joins EXTRA of them, drawn
 *     with weight 1 / k^1.1, so a few have thousands of members and most have tens;
 *   - each community has 2 + floor(log2(members)) public text channels: a channel's readers are
 *     the community's members, so channel sizes follow the community sizes;
 *   - one device per user (public keys are opaque to every server path the harness drives).
 */
import type { Database } from "../../src/db/open.ts";
import { hashPassword } from "../../src/features/auth/passwords.ts";

export const LOAD_PASSWORD = "load-harness-password-7f3a";
const EXTRA = 2;
const ZIPF_S = 1.1;

export type Topology = {
  users: { id: string; username: string; deviceId: string }[];
  communities: { id: string; members: number; channels: string[] }[];
  /** Per user: the indexes of the communities it belongs to. */
  membership: number[][];
};

/** Mulberry32: a small, seeded PRNG (the same fixture for the same seed). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function seed(database: Database, n: number, seedValue = 19): Promise<Topology> {
  const db = database.db;
  const random = rng(seedValue);
  const passwordHash = await hashPassword(LOAD_PASSWORD);
  const users = Array.from({ length: n }, (_, i) => ({ id: Bun.randomUUIDv7(), username: `load${i}`, deviceId: `load-dev-${i}` }));
  const C = Math.max(2, Math.ceil(n / 25));
  const weights = Array.from({ length: C - 1 }, (_, k) => 1 / (k + 1) ** ZIPF_S);
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  weights.reduce((acc, w, i) => (cumulative[i] = acc + w / total), 0);
  const pick = () => {
    const x = random();
    const i = cumulative.findIndex((c) => x <= c);
    return 1 + (i < 0 ? C - 2 : i);
  };
  const membership = users.map(() => {
    const set = new Set<number>([0]);
    for (let tries = 0; set.size < Math.min(1 + EXTRA, C) && tries < 50; tries++) set.add(pick());
    return [...set];
  });
  const memberLists: number[][] = Array.from({ length: C }, () => []);
  membership.forEach((cs, u) => cs.forEach((c) => memberLists[c]!.push(u)));
  const communities = memberLists.map((members, c) => {
    const channels = Array.from({ length: 2 + Math.floor(Math.log2(Math.max(1, members.length))) }, () => Bun.randomUUIDv7());
    return { id: Bun.randomUUIDv7(), members: members.length, channels, c };
  });
  const now = new Date();
  const chunk = async <T>(rows: T[], insert: (part: T[]) => Promise<unknown>) => {
    for (let i = 0; i < rows.length; i += 1000) await insert(rows.slice(i, i + 1000));
  };
  await chunk(
    users.map((u, i) => ({ id: u.id, username: u.username, email: `${u.username}@load.example.test`, password_hash: passwordHash, display_name: `Load User ${i}`, is_owner: i === 0, is_admin: false, admin_powers: [] })),
    (part) => db.insertInto("users").values(part as never).execute(),
  );
  const key = new Uint8Array(32);
  await chunk(
    users.map((u) => ({ user_id: u.id, device_id: u.deviceId, signing_key: key, identity_key: key, signed_prekey_id: 1, signed_prekey: key, signed_prekey_signature: new Uint8Array(64), signed_prekey_updated_at: now, created_at: now })),
    (part) => db.insertInto("key_devices").values(part as never).execute(),
  );
  for (const community of communities) {
    const members = memberLists[community.c]!;
    // The owner of every community is its first member (user 0 owns the town square).
    const ownerId = users[members[0] ?? 0]!.id;
    await db.insertInto("communities").values({ id: community.id, name: `Load ${community.c}`, owner_id: ownerId } as never).execute();
    await chunk(
      members.map((u) => ({ community_id: community.id, user_id: users[u]!.id, role: users[u]!.id === ownerId ? "owner" : "member" })),
      (part) => db.insertInto("community_members").values(part as never).execute(),
    );
    const groupId = Bun.randomUUIDv7();
    await db.insertInto("groups").values({ id: groupId, community_id: community.id, name: "Text" } as never).execute();
    await chunk(
      community.channels.map((id, k) => ({ id, kind: "text", community_id: community.id, group_id: groupId, name: `ch-${k}`, topic: null, created_by: ownerId })),
      (part) => db.insertInto("channels").values(part as never).execute(),
    );
  }
  return { users, communities: communities.map(({ id, members, channels }) => ({ id, members, channels })), membership };
}

/**
 * One signed-in session per user, made by the server's own code (createSession: the row, the
 * refresh token, the access JWT signed with the instance's key), for users who come back with a
 * remembered session instead of typing their password. The JWT key is the one the server will
 * load: development secrets generated in `dataDir` now, or the checkout's ./secrets.
 */
export async function seedSessions(database: Database, topology: Topology, env: Record<string, string>): Promise<{ access: string; refresh: string }[]> {
  const { loadConfig } = await import("../../src/config.ts");
  const { loadSecrets } = await import("../../src/secrets.ts");
  const { silentLogger } = await import("../../src/log.ts");
  const { runInTransaction } = await import("../../src/db/tx.ts");
  const { authKernelOf, createSession } = await import("../../src/features/auth/index.ts");
  const config = loadConfig(env);
  const events = { publish() {} } as never;
  const deps = { config, database, log: silentLogger, secrets: loadSecrets(config, silentLogger), events, hub: events } as never;
  const kernel = authKernelOf(deps);
  const out: { access: string; refresh: string }[] = [];
  for (let i = 0; i < topology.users.length; i += 500) {
    await runInTransaction({ db: database.db, events }, async (tx) => {
      for (const u of topology.users.slice(i, i + 500)) {
        const t = await createSession(tx, kernel, u.id, { ip: "127.0.0.1", userAgent: "hearth-load" } as never);
        out.push({ access: t.accessToken, refresh: t.refreshToken! });
      }
    });
  }
  return out;
}
