/**
 * The unable-to-decrypt soak (issue 11 §6), as a function the CLI (utd.ts) and the CI test
 * (test/scripts/utd-soak.test.ts) both run. The real browser engine (src/client/chat/engine.ts,
 * viewers.ts, sender.ts) drives each simulated device under Bun against the real app on a real
 * database (test/helpers/app.ts: PostgreSQL with TEST_DATABASE_URL, else PGlite), with a real
 * WebSocket per online device, reacting to the hub's frames as src/client/chat/index.ts and
 * controller.ts do:
 *
 *   viewers:changed, keys:changed   the channel's reader list is stale; a device holding its own
 *                                   sender key there re-fetches it and shares the key with new
 *                                   devices (shareSenderKey)
 *   device:message                  read the to-device queue, retry the waiting messages
 *   presence:changed (online)       nudge key requests (a holder came online)
 *   every 4 s while something waits read the to-device queue and retry (the controller's timer)
 *   reconnect                       lists stale, to-device queue read, everything retried
 *
 * A driver takes seeded random steps — sends, joins, leaves, kicks, reloads (engine re-created
 * from its persisted store), new devices, device revocations (the device is set up again as a
 * new one, as the "set up again" banner does, or dropped) and offline periods (socket closed,
 * every request fails) — one at a time, so who could read what when is unambiguous.
 *
 * Accounting: for each message and each device other than the sending one, the pair is due while
 * the device is online and its user is entitled to the message: a reader now, and, in a `joined`
 * channel, a reader continuously since before it was sent (a `shared` channel: any reader now).
 * Time to decrypt runs from when the pair became due in the current online period (the device
 * came online, the message was sent, or the user joined). A pair still unread `deadlineMs` after
 * it became due is undecryptable. After the steps, every remaining device comes online and the
 * run settles until every due pair is read or has failed.
 */
import { ApiError, type Api } from "../../src/client/chat/api.ts";
import { ChatEngine, type EngineStats } from "../../src/client/chat/engine.ts";
import { encryptAndSend, type SendTarget } from "../../src/client/chat/sender.ts";
import type { PendingKey } from "../../src/client/chat/key-requests.ts";
import type { ChatMessage } from "../../src/client/chat/types.ts";
import { recipientsOf, Viewers } from "../../src/client/chat/viewers.ts";
import { MemoryKeyStore } from "../../src/client/e2ee/index.ts";
import { createTestContext, type TestContext } from "../../test/helpers/app.ts";
import { caller, engineApi } from "../../test/helpers/engines.ts";
import { createUser, signIn } from "../../test/helpers/users.ts";
import { connectWithToken, listen, type TestSocket } from "../../test/helpers/ws.ts";

export type SoakOptions = {
  seed: number;
  /** Stop taking steps after this many… */
  steps?: number;
  /** …or after this long (whichever comes first). */
  durationMs?: number;
  users?: number;
  /** A due pair unread this long after it became due counts as undecryptable. */
  deadlineMs?: number;
  /** Pause between steps (ms, jittered ±50 %). */
  stepMs?: number;
  /** Progress lines (the CLI prints them). */
  log?: (line: string) => void;
};

export type Failure = { message: string; channel: string; history: "shared" | "joined"; sender: string; reader: string; device: string; dueFor: number; outcome: string; detail: string; healedAfter?: number };

export type SoakResult = {
  seed: number;
  steps: number;
  seconds: number;
  messages: number;
  devices: number;
  users: number;
  actions: Record<string, number>;
  entitledReads: number;
  undecryptable: number;
  failures: Failure[];
  ttd: { p50: number; p99: number; max: number };
  stats: EngineStats;
  diag: Soak["diag"];
};

/** mulberry32: small, seeded, good enough to choose steps reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Web Locks as the browser has them (Bun has none): the engine serialises its operations, and a
 * reloaded page's engine with the one it replaces, under `hearth-chat-<user>`.
 */
function installLocks(timing: { maxLockWaitMs: number; maxLockHoldMs: number }): () => void {
  const nav = globalThis.navigator as unknown as { locks?: unknown };
  if (nav.locks) return () => {};
  const tails = new Map<string, Promise<unknown>>();
  nav.locks = {
    request(name: string, fn: () => Promise<unknown>) {
      const prev = tails.get(name) ?? Promise.resolve();
      const asked = Date.now();
      // How long an engine operation waited for, and held, its lock (a slow read is a busy queue).
      const timed = async () => {
        const start = Date.now();
        timing.maxLockWaitMs = Math.max(timing.maxLockWaitMs, start - asked);
        try {
          return await fn();
        } finally {
          timing.maxLockHoldMs = Math.max(timing.maxLockHoldMs, Date.now() - start);
        }
      };
      const run = prev.then(timed, timed);
      const tail = run.catch(() => {});
      tails.set(name, tail);
      void tail.then(() => tails.get(name) === tail && tails.delete(name));
      return run;
    },
  };
  return () => delete nav.locks; // a test process goes on with other files: leave no trace
}

type Channel = { id: string; history: "shared" | "joined" };
type Sent = { m: ChatMessage; at: number; senderDevice: string; channel: Channel };
type Pair = { dueSince: number | null; decryptedAt?: number; ttd?: number; failed?: Failure; last: string };

class SimUser {
  member = false;
  /** When the current membership began (local ms, after the join answered). */
  since = 0;
  devices: SimDevice[] = [];
  constructor(
    readonly id: string,
    readonly name: string,
    readonly call: ReturnType<typeof caller>,
  ) {}
}

/** One browser profile: a key store that outlives reloads, an engine, a socket while online. */
class SimDevice {
  online = false;
  onlineSince = 0;
  engine!: ChatEngine;
  engines: ChatEngine[] = [];
  private socket: TestSocket | null = null;
  private cursor = 0;
  private views = new Map<string, { viewers: Viewers; target: SendTarget }>();
  private attempted = new Set<string>();
  private retryDue = true;
  private lastPoll = 0;
  private pump: Promise<void> | null = null;
  private stopped = false;
  readonly store = new MemoryKeyStore();
  private token = "";
  private api!: ReturnType<typeof engineApi>;
  private syncing: Promise<void> = Promise.resolve();

  constructor(
    readonly sim: Soak,
    readonly user: SimUser,
  ) {}

  get deviceId(): string {
    return this.engine.deviceId;
  }

  /** First start: a session of its own, a new device registered through the key service. */
  async open(): Promise<void> {
    const session = await signIn(this.sim.ctx, { id: this.user.id });
    this.token = session.accessToken;
    this.api = this.sim.observe(engineApi(this.sim.ctx, session.headers, () => this.online));
    this.online = true;
    this.engine = await ChatEngine.open(this.user.id, this.store, this.api);
    this.engines.push(this.engine);
    this.sim.deviceIds.add(this.engine.deviceId);
    await this.connect();
  }

  /** A page load on the same profile: the engine re-created from its store. */
  async reload(): Promise<void> {
    await this.goOffline();
    this.online = true;
    this.engine = await ChatEngine.open(this.user.id, this.store, this.api);
    this.engines.push(this.engine);
    this.views.clear();
    await this.connect();
  }

  async goOffline(): Promise<void> {
    if (!this.online) return;
    this.stopped = true;
    await this.pump;
    this.socket?.close();
    this.socket = null;
    this.online = false;
    this.sim.pauseDevice(this);
  }

  /** Socket, subscriptions and the reader lists; then the pump (index.ts onReconnected / mountChat). */
  async connect(): Promise<void> {
    this.online = true;
    this.onlineSince = Date.now();
    this.socket = await connectWithToken(this.sim.wsUrl, this.token);
    this.cursor = 0;
    this.attempted.clear();
    for (const v of this.views.values()) v.viewers.invalidate();
    await this.engine.maintainPrekeys().catch(() => {});
    const read = await this.engine.processToDevice().catch(() => 0);
    this.sim.diag.toDeviceRead += read; // not `+= await`: that reads the sum before the wait
    await this.syncViews();
    this.stopped = false;
    this.retryDue = true;
    this.pump = this.loop();
  }

  /** The channels this user can read are on screen; channels they left are not (one sync at a time). */
  private syncViews(): Promise<void> {
    const next = this.syncing.then(() => this.syncViewsNow());
    this.syncing = next.catch(() => {});
    return next;
  }

  private async syncViewsNow(): Promise<void> {
    if (!this.user.member) {
      this.views.clear();
      return;
    }
    const missing = this.sim.channels.filter((c) => !this.views.has(c.id));
    if (missing.length === 0) return;
    this.socket?.send({ type: "subscribe", channelIds: missing.map((c) => c.id) });
    for (const c of missing) {
      const viewers = new Viewers(c.id, this.api);
      viewers.onChange((list) => {
        this.engine.setChannelContext(c.id, list);
        void this.engine.shareSenderKey(c.id, recipientsOf(list, { userId: this.user.id, deviceId: this.engine.deviceId })).catch(() => {});
      });
      this.views.set(c.id, { viewers, target: { channelId: c.id, scheme: "sk", selfId: this.user.id, viewers, names: new Map() } });
      await viewers.current().catch(() => {});
    }
  }

  /** The readers changed: stale lists; a device with its own key there fetches now (index.ts refreshViewers). */
  private refreshViewers(): void {
    for (const [channelId, v] of this.views) {
      v.viewers.invalidate();
      if (this.engine.hasOwnSenderKey(channelId)) setTimeout(() => void v.viewers.current().catch(() => {}), Math.random() * 2_000);
    }
  }

  private onFrame(f: Record<string, unknown>): void {
    switch (f.type) {
      case "viewers:changed":
        return this.refreshViewers();
      case "keys:changed":
        if (typeof f.userId === "string" && [...this.views.values()].some((v) => v.viewers.known?.devicesByUser.has(f.userId as string))) this.refreshViewers();
        return;
      case "device:message":
        if (f.deviceId === this.engine.deviceId) this.retryDue = true;
        return;
      case "message:new":
        return; // the loop reads every message the soak knows of (the page's timeline)
      case "presence:changed":
        if (f.status !== "offline" && f.userId !== this.user.id) {
          for (const [channelId, v] of this.views) if (v.viewers.known?.devicesByUser.has(String(f.userId))) this.engine.nudgeKeyRequests(channelId);
        }
        return;
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      try {
        const socket = this.socket;
        while (socket && this.cursor < socket.received.length) this.onFrame(socket.received[this.cursor++] as Record<string, unknown>);
        await this.syncViews();
        const now = Date.now();
        const poll = this.retryDue || now - this.lastPoll >= 4_000;
        if (poll) {
          this.retryDue = false;
          this.lastPoll = now;
          const read = await this.engine.processToDevice();
          this.sim.diag.toDeviceRead += read;
        }
        await this.sim.readAs(this, poll, this.attempted);
      } catch {
        // offline, revoked or a passing failure (the refused requests are in diag.errors): the next round tries again
      }
      await Bun.sleep(150);
    }
  }

  async send(channel: Channel, text: string): Promise<ChatMessage> {
    await this.syncViews();
    const view = this.views.get(channel.id);
    if (!view) throw new Error("not a reader");
    return encryptAndSend(this.engine, view.target, { clientId: crypto.randomUUID(), text });
  }

  async decrypt(m: ChatMessage) {
    return this.engine.decrypt(m);
  }

  /** Revoked elsewhere: "set up encryption again" (ChatEngine.resetDevice) makes it a new device. */
  async reset(): Promise<void> {
    await this.engine.resetDevice();
    this.sim.deviceIds.add(this.engine.deviceId);
    this.onlineSince = Date.now();
    this.attempted.clear();
    this.refreshViewers();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.pump;
    this.socket?.close();
    this.socket = null;
    this.online = false;
  }
}

class Soak {
  ctx!: TestContext;
  wsUrl = "";
  channels: Channel[] = [];
  communityId = "";
  users: SimUser[] = [];
  sent: Sent[] = [];
  readonly pairs = new Map<string, Pair>();
  readonly deviceIds = new Set<string>();
  readonly dead = new Set<string>();
  /** Every device that ever ran (dropped ones too), for the engines' counters. */
  readonly allDevices: SimDevice[] = [];
  readonly actions: Record<string, number> = {};
  /** To-device messages fetched vs read (the rest could not be decrypted), and the entitlement answers. */
  readonly diag = { toDeviceFetched: 0, toDeviceRead: 0, entitled: 0, refused: {} as Record<string, number>, errors: {} as Record<string, number>, maxLockWaitMs: 0, maxLockHoldMs: 0 };

  /** Counts what the engines fetch (to-device messages, entitlement answers) without changing it. */
  observe(api: Api): Api {
    return {
      text: (path) => api.text(path),
      call: async <T>(method: string, path: string, body?: unknown): Promise<T> => {
        let answer: T;
        try {
          answer = await api.call<T>(method, path, body);
        } catch (error) {
          const what = `${method} ${path.split("?")[0]!.replace(/[0-9a-f-]{36}/g, ":id")} ${error instanceof ApiError ? error.code : "network"}`;
          this.diag.errors[what] = (this.diag.errors[what] ?? 0) + 1;
          throw error;
        }
        const a = answer as { messages?: unknown[]; entitled?: unknown[]; refused?: { reason: string }[] };
        if (method === "GET" && path.startsWith("/api/e2ee/to-device?")) this.diag.toDeviceFetched += a.messages?.length ?? 0;
        if (method === "GET" && path.includes("/key-entitlements?")) {
          this.diag.entitled += a.entitled?.length ?? 0;
          for (const r of a.refused ?? []) this.diag.refused[r.reason] = (this.diag.refused[r.reason] ?? 0) + 1;
        }
        return answer;
      },
    };
  }
  private invite = "";
  constructor(
    readonly opts: Required<Omit<SoakOptions, "log" | "steps" | "durationMs">> & Pick<SoakOptions, "log" | "steps" | "durationMs">,
  ) {}

  entitled(u: SimUser, s: Sent): boolean {
    if (!u.member) return false;
    return s.channel.history === "shared" || u.since < Date.parse(s.m.created_at);
  }

  /** The device reads every message it is entitled to (the page shows them), timing each due pair. */
  async readAs(d: SimDevice, retry: boolean, attempted: Set<string>): Promise<void> {
    const deviceId = d.engine.deviceId;
    if (this.dead.has(deviceId)) return;
    for (const s of this.sent) {
      if (this.dead.has(deviceId)) return; // revoked while this round ran
      if (s.senderDevice === deviceId) continue;
      const key = `${s.m.id} ${deviceId}`;
      const pair = this.pairs.get(key);
      if (pair?.decryptedAt !== undefined) continue;
      if (!this.entitled(d.user, s) || !d.online) {
        if (pair) pair.dueSince = null;
        continue;
      }
      const p = pair ?? { dueSince: null, last: "never shown" };
      if (!pair) this.pairs.set(key, p);
      const now = Date.now();
      p.dueSince ??= Math.max(d.onlineSince, s.at, d.user.since);
      if (retry || !attempted.has(key)) {
        attempted.add(key);
        const due = p.dueSince!;
        const outcome = await d.decrypt(s.m);
        if (d.engine.deviceId !== deviceId || this.dead.has(deviceId)) return; // reset or revoked meanwhile
        if (p.dueSince === null) continue; // went offline meanwhile: not due now
        const at = Date.now();
        if (outcome.status === "ok") {
          p.decryptedAt = at;
          p.ttd = at - due;
          // Read, but late (this round came after the deadline: a busy engine queue): a failure too.
          if (!p.failed && p.ttd > this.opts.deadlineMs) p.failed = { message: s.m.id, channel: s.channel.id, history: s.channel.history, sender: s.m.sender_id, reader: d.user.name, device: deviceId, dueFor: p.ttd, outcome: `${p.last} (then read late)`, detail: this.diagnose(d, s) };
          if (p.failed) p.failed.healedAfter = p.ttd;
          continue;
        }
        p.last = `${outcome.status}: ${outcome.reason}`;
      }
      if (!p.failed && now - p.dueSince! > this.opts.deadlineMs) {
        p.failed = { message: s.m.id, channel: s.channel.id, history: s.channel.history, sender: s.m.sender_id, reader: d.user.name, device: deviceId, dueFor: now - p.dueSince!, outcome: p.last, detail: this.diagnose(d, s) };
      }
    }
  }

  /** What the failing device's engine waits for, and who of the asked was online (for the report). */
  diagnose(d: SimDevice, s: Sent): string {
    const state = (d.engine as unknown as { core: { state: { keyRequests?: Record<string, PendingKey> } } }).core.state;
    const p = state.keyRequests?.[s.m.id];
    const now = Date.now();
    const who = (key: string) => {
      const dev = this.allDevices.find((x) => key.endsWith(`/${x.deviceId}`));
      return dev ? `${dev.user.name}${dev.online ? "" : " (offline)"}${this.dead.has(dev.deviceId) ? " (revoked)" : ""}` : key;
    };
    const sender = this.allDevices.find((x) => x.deviceId === s.senderDevice);
    const senderState = sender ? `${sender.online ? "online" : "offline"}${this.dead.has(s.senderDevice) ? ", revoked" : ""}` : "gone";
    const pending = p ? `asked ${p.n} times, first ${((now - p.at) / 1000).toFixed(1)} s ago, next in ${((p.next - now) / 1000).toFixed(1)} s; asked: ${Object.keys(p.asked).map(who).join(", ") || "nobody"}${p.refused ? `; refused ${p.refused}` : ""}` : "no pending request";
    const holds = (dev: SimDevice | undefined) => !!(dev?.engine as unknown as { core?: { archive: { findMessageKey(id: string): unknown } } } | undefined)?.core?.archive.findMessageKey(s.m.id);
    const offered = (state as { forwarded?: Record<string, unknown[]> }).forwarded?.[s.m.id]?.length ?? 0;
    return `sent ${((now - s.at) / 1000).toFixed(1)} s ago by ${sender?.user.name ?? "?"}'s device (${senderState}, ${holds(sender) ? "holds" : "lacks"} its key); reader device ${d.engines.length - 1} reloads, ${offered} keys offered not opening it; ${pending}`;
  }

  /** A device went offline: its pairs stop being due (their clock starts again when it is back). */
  pauseDevice(d: SimDevice): void {
    const suffix = ` ${d.engine.deviceId}`;
    for (const [k, p] of this.pairs) if (k.endsWith(suffix) && p.decryptedAt === undefined) p.dueSince = null;
  }

  /** Pairs a user lost the right to (left, kicked) are not due any more. */
  pauseUser(u: SimUser): void {
    for (const d of u.devices) this.pauseDevice(d);
  }

  uninstallLocks = () => {};

  async setup(): Promise<void> {
    this.uninstallLocks = installLocks(this.diag);
    this.ctx = await createTestContext({ env: { COMMUNITY_CREATION_MODE: "anyone" } });
    this.wsUrl = (await listen(this.ctx)).ws;
    for (let i = 0; i < this.opts.users; i++) {
      const name = `user${i}`;
      const u = await createUser(this.ctx, { displayName: name });
      this.users.push(new SimUser(u.id, name, caller(this.ctx, (await signIn(this.ctx, u)).headers)));
    }
    const owner = this.users[0]!;
    this.communityId = (await owner.call("POST", "/api/communities", { name: "Soak" })).id;
    owner.member = true;
    owner.since = Date.now();
    const groups = (await owner.call("GET", `/api/communities/${this.communityId}/groups`)).groups;
    this.channels.push({ id: groups[0].channels[0].id, history: "shared" });
    const dev = (await owner.call("POST", `/api/groups/${groups[0].id}/channels`, { name: "dev" })).id as string;
    await owner.call("PATCH", `/api/channels/${dev}`, { history_visibility: "joined" });
    this.channels.push({ id: dev, history: "joined" });
    this.invite = (await owner.call("POST", `/api/communities/${this.communityId}/invites`, {})).code;
    // Three in four start as members; everyone starts with one device, every third with two.
    for (const [i, u] of this.users.entries()) {
      if (i > 0 && i % 4 !== 3) await this.join(u);
      await this.addDevice(u);
      if (i % 3 === 0) await this.addDevice(u);
    }
  }

  async join(u: SimUser): Promise<void> {
    await u.call("POST", `/api/community-invites/${this.invite}/accept`);
    await Bun.sleep(5); // joined_at strictly before any later message
    u.member = true;
    u.since = Date.now();
  }

  async addDevice(u: SimUser): Promise<void> {
    const d = new SimDevice(this, u);
    u.devices.push(d);
    this.allDevices.push(d);
    await d.open();
  }

  count(action: string): void {
    this.actions[action] = (this.actions[action] ?? 0) + 1;
  }

  /** One random step; returns what it did. */
  async step(r: () => number, offlineUntil: Map<SimDevice, number>, stepNo: number): Promise<void> {
    const pick = <T>(xs: T[]): T | undefined => (xs.length ? xs[Math.floor(r() * xs.length)] : undefined);
    const members = this.users.filter((u) => u.member);
    const outsiders = this.users.filter((u) => !u.member);
    const devices = this.users.flatMap((u) => u.devices);
    const roll = r();
    if (roll < 0.5) {
      const d = pick(members.flatMap((u) => u.devices).filter((x) => x.online));
      const c = pick(this.channels)!;
      if (!d) return;
      try {
        const m = await d.send(c, `soak ${stepNo} from ${d.user.name}`);
        this.sent.push({ m, at: Date.now(), senderDevice: m.sender_device_id, channel: c });
        this.count("send");
      } catch (error) {
        this.count(`send refused (${error instanceof ApiError ? error.code : (error as Error).message})`);
      }
    } else if (roll < 0.62) {
      const d = pick(devices.filter((x) => x.online));
      if (!d) return;
      await d.goOffline();
      offlineUntil.set(d, stepNo + 3 + Math.floor(r() * 25));
      this.count("offline");
    } else if (roll < 0.7) {
      const d = pick(devices.filter((x) => x.online));
      if (!d) return;
      await d.reload();
      this.count("reload");
    } else if (roll < 0.77) {
      const u = pick(outsiders);
      if (!u) return;
      await this.join(u);
      this.count("join");
    } else if (roll < 0.85) {
      const leaving = roll < 0.81;
      const u = pick(members.filter((x) => x !== this.users[0]));
      if (!u || members.length <= 4) return;
      if (leaving) await u.call("POST", `/api/communities/${this.communityId}/leave`);
      else await this.users[0]!.call("DELETE", `/api/communities/${this.communityId}/members/${u.id}`, {});
      u.member = false;
      this.pauseUser(u);
      this.count(leaving ? "leave" : "kick");
    } else if (roll < 0.92) {
      const u = pick(this.users.filter((x) => x.devices.length < 2));
      if (!u) return;
      await this.addDevice(u);
      this.count("new device");
    } else {
      const u = pick(this.users.filter((x) => x.devices.length > 0));
      const d = u && pick(u.devices);
      if (!u || !d) return;
      const old = d.deviceId;
      await u.call("DELETE", `/api/keys/devices/${encodeURIComponent(old)}`);
      this.pauseDevice(d);
      this.dead.add(old);
      if (d.online && r() < 0.6) {
        await d.reset();
        this.count("revoke + set up again");
      } else {
        await d.stop();
        u.devices = u.devices.filter((x) => x !== d);
        offlineUntil.delete(d);
        this.count("revoke + dropped");
      }
    }
  }

  /** Every due pair read or failed (bounded: the deadline plus a margin). */
  async settle(): Promise<void> {
    const until = Date.now() + this.opts.deadlineMs + 15_000;
    while (Date.now() < until) {
      const open = [...this.pairs.values()].filter((p) => p.decryptedAt === undefined && !p.failed && p.dueSince !== null).length;
      const unseen = this.unseenPairs();
      if (open === 0 && unseen === 0) return;
      await Bun.sleep(250);
    }
  }

  /** Entitled pairs of online devices that no read round has looked at yet. */
  private unseenPairs(): number {
    let n = 0;
    for (const u of this.users) for (const d of u.devices) {
      if (!d.online || this.dead.has(d.deviceId)) continue;
      for (const s of this.sent) if (s.senderDevice !== d.deviceId && this.entitled(u, s) && !this.pairs.has(`${s.m.id} ${d.deviceId}`)) n++;
    }
    return n;
  }
}

const quantile = (xs: number[], q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.floor(q * xs.length))]! : 0);

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const sim = new Soak({ users: 8, deadlineMs: 10_000, stepMs: 250, ...options });
  const log = options.log ?? (() => {});
  const r = rng(options.seed);
  const started = Date.now();
  await sim.setup();
  log(`set up: ${sim.users.length} users, ${sim.users.filter((u) => u.member).length} members, ${sim.users.flatMap((u) => u.devices).length} devices`);
  const offlineUntil = new Map<SimDevice, number>();
  let step = 0;
  try {
    const end = options.durationMs !== undefined ? Date.now() + options.durationMs : Infinity;
    const maxSteps = options.steps ?? Infinity;
    while (step < maxSteps && Date.now() < end) {
      for (const [d, until] of offlineUntil) {
        if (step >= until) {
          offlineUntil.delete(d);
          await d.connect();
          sim.count("online again");
        }
      }
      await sim.step(r, offlineUntil, step);
      step++;
      if (step % 50 === 0) log(`step ${step}: ${sim.sent.length} messages, ${[...sim.pairs.values()].filter((p) => p.decryptedAt !== undefined).length} reads, ${[...sim.pairs.values()].filter((p) => p.failed).length} failed`);
      await Bun.sleep(sim.opts.stepMs * (0.5 + r()));
    }
    for (const d of offlineUntil.keys()) await d.connect();
    log(`settling: every device online`);
    await sim.settle();
  } finally {
    for (const u of sim.users) for (const d of u.devices) await d.stop();
  }
  const pairs = [...sim.pairs.values()];
  // Undecided pairs at the end: due and never read in time (settle waited past the deadline).
  for (const [key, p] of sim.pairs) {
    const [message, device] = key.split(" ") as [string, string];
    if (p.decryptedAt === undefined && !p.failed && p.dueSince !== null && !sim.dead.has(device)) {
      const s = sim.sent.find((x) => x.m.id === message)!;
      const d = sim.allDevices.find((x) => x.deviceId === device);
      p.failed = { message, channel: s.channel.id, history: s.channel.history, sender: s.m.sender_id, reader: d?.user.name ?? "?", device, dueFor: Date.now() - p.dueSince, outcome: `${p.last} (unread at the end)`, detail: d ? sim.diagnose(d, s) : "" };
    }
  }
  const counted = pairs.filter((p) => p.decryptedAt !== undefined || p.failed);
  const failures = counted.filter((p) => p.failed).map((p) => p.failed!);
  const ttds = counted.filter((p) => !p.failed && p.ttd !== undefined).map((p) => p.ttd!).sort((a, b) => a - b);
  const engines = sim.allDevices.flatMap((d) => d.engines);
  const stats = Object.fromEntries(Object.keys(engines[0]?.stats ?? {}).map((k) => [k, engines.reduce((n, e) => n + (e.stats as Record<string, number>)[k]!, 0)])) as EngineStats;
  await sim.ctx.close();
  sim.uninstallLocks();
  return {
    seed: options.seed,
    steps: step,
    seconds: (Date.now() - started) / 1000,
    messages: sim.sent.length,
    devices: sim.deviceIds.size,
    users: sim.users.length,
    actions: sim.actions,
    entitledReads: counted.length,
    undecryptable: failures.length,
    failures,
    ttd: { p50: quantile(ttds, 0.5), p99: quantile(ttds, 0.99), max: ttds[ttds.length - 1] ?? 0 },
    stats,
    diag: sim.diag,
  };
}
