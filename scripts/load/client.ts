/**
 * The load harness's simulated users (scripts/load/README.md), run by run.ts in a process of
 * their own so their CPU is measured apart from the server's. Each user behaves like the browser
 * client (src/client/chat, src/client/live, src/client/ws.ts):
 *
 *   join      GET /login, POST /login (form, Origin + Sec-Fetch-Site like a browser) -> session
 *             cookies; GET the chat page; open /ws with the cookie and Origin (the server sends
 *             `hello` by itself), then the channel switch below.
 *   actions   after an exponential think time (mean --think), one of, by weight:
 *             SwitchChannel 6.5: boosted GET of /c/:community/ch/:channel (HX-Request), GET the
 *               channel's members (viewers and their devices), GET history (limit 50), GET
 *               presence of up to 50 members, GET unread counts, unsubscribe the old channel and
 *               subscribe the new one (waits for `subscribed`), PUT the read cursor;
 *             CreatePost 1: typing:start, a short pause, POST an E2EE-shaped message (random
 *               base64url of the size of a Sender Key group message for a plaintext of
 *               log-normal length), typing:stop. The first post of a user in a channel first
 *               distributes its Sender Key: to-device messages (the size of a Double Ratchet
 *               message carrying a distribution) to every reader device, in calls of 200;
 *             ScrollHistory 1: GET an older page (before_seq); UnreadCounts 1;
 *             Reaction 0.5: PUT a reaction on a message seen in the channel;
 *             Presence 0.3: presence:set frame; KeyRequest 0.1: one to-device key request to a
 *               reader's device; Reconnect 0.05: close the socket, POST /api/auth/refresh (cookie),
 *               reopen, re-subscribe, GET what was missed (after_seq); Login 0.02: sign out and in.
 *   passive   message:new in the open channel: the delivery latency (send time travels in the
 *             client id) and a read cursor PUT (at most one per 2 s); device:message: GET the
 *             to-device queue and POST its ack (one fetch in flight per user).
 *
 * Every request carries X-Forwarded-For with the user's own address (the server trusts loopback
 * as its proxy): per-IP rate limits see N users, as behind a reverse proxy. Everything stops at
 * the end time: all loops are bounded by it.
 *
 *   bun scripts/load/client.ts <plan.json>   (prints one line `RESULT {json}` at the end)
 */
import { emptyStats, record, type ActionStats } from "./stats.ts";

/** `session`: a remembered session (cookies), or null to sign in with the password on joining. */
export type PlanUser = { index: number; id: string; username: string; deviceId: string; session: { access: string; refresh: string } | null; communities: { id: string; channels: string[] }[] };
/** `cover`: each user's first action after joining is WEIGHTS[index % WEIGHTS.length], finished even past the end (the smoke run reports every action). */
export type Plan = { port: number; serverPid: number; t0: number; stepMs: number; steps: number[]; joinSpreadMs: number; thinkMs: number; password: string; seed: number; cover: boolean; users: PlanUser[] };
export type StepResult = { actions: Record<string, ActionStats>; http: ActionStats; delivered: number; sent: number; wsErrors: Record<string, number>; activeUsers: number };

const WEIGHTS: [string, number][] = [
  ["SwitchChannel", 6.5],
  ["CreatePost", 1],
  ["ScrollHistory", 1],
  ["UnreadCounts", 1],
  ["Reaction", 0.5],
  ["Presence", 0.3],
  ["KeyRequest", 0.1],
  ["Reconnect", 0.05],
  ["Login", 0.02],
];
const WEIGHT_TOTAL = WEIGHTS.reduce((a, [, w]) => a + w, 0);

export const ACTIONS = WEIGHTS.map(([name]) => name);

export function runClients(plan: Plan): Promise<StepResult[]> {
  const origin = `http://127.0.0.1:${plan.port}`;
  const endAt = plan.t0 + plan.stepMs * plan.steps.length;
  const steps: StepResult[] = plan.steps.map(() => ({ actions: {}, http: emptyStats(), delivered: 0, sent: 0, wsErrors: {}, activeUsers: 0 }));
  const stepOf = (t: number) => Math.min(steps.length - 1, Math.max(0, Math.floor((t - plan.t0) / plan.stepMs)));
  const now = () => performance.timeOrigin + performance.now();
  const statsOf = (step: StepResult, action: string) => (step.actions[action] ??= emptyStats());
  const alive = () => Date.now() < endAt;
  let seedState = plan.seed >>> 0;
  const random = () => {
    seedState = (seedState + 0x6d2b79f5) >>> 0;
    let t = seedState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const exp = (mean: number) => -Math.log(1 - random()) * mean;
  const sleep = (ms: number, force = false) => Bun.sleep(Math.max(0, force ? ms : Math.min(ms, endAt - Date.now())));
  const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  const b64 = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("base64url");
  /** Bytes of a Sender Key group message for a plaintext of `p` bytes (JSON with base64 fields, then base64url on the wire). */
  const groupMessageBytes = () => {
    const text = Math.min(4000, Math.round(Math.exp(Math.log(60) + 0.9 * gauss())));
    return Math.ceil(((text + 40 + 16) * 4) / 3) + 190;
  };
  const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

  class User {
    cookies = new Map<string, string>();
    ws: WebSocket | null = null;
    ip: string;
    community: PlanUser["communities"][number];
    channel: string;
    lastSeq = new Map<string, number>();
    oldestSeq = new Map<string, number>();
    messageIds: string[] = [];
    distributed = new Set<string>();
    readers = new Map<string, { userId: string; deviceId: string }[]>();
    viewerVersion = new Map<string, number>();
    lastReadPut = 0;
    toDeviceBusy = false;
    toDeviceAgain = false;
    toDeviceAfter = "";
    pendingSubscribe: ((ok: boolean) => void) | null = null;
    hello: ((ok: boolean) => void) | null = null;
    /** Doing the covering action: not cut short by the end time. */
    covering = false;
    live = () => this.covering || alive();

    constructor(readonly u: PlanUser) {
      const i = u.index + 1;
      this.ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
      this.community = u.communities[0]!;
      this.channel = this.community.channels[0]!;
    }

    cookieHeader(): string {
      return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    }

    /** One HTTP request as the browser sends it; recorded under `action` and in the all-requests total. */
    async http(action: string | null, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<{ status: number; json: unknown; ms: number }> {
      const headers: Record<string, string> = { "x-forwarded-for": this.ip, "sec-fetch-site": "same-origin", accept: "application/json", ...extra };
      if (this.cookies.size) headers.cookie = this.cookieHeader();
      if (method !== "GET") headers.origin = origin;
      let payload: string | undefined;
      if (body instanceof URLSearchParams) {
        payload = body.toString();
        headers["content-type"] = "application/x-www-form-urlencoded";
      } else if (body !== undefined) {
        payload = JSON.stringify(body);
        headers["content-type"] = "application/json";
      }
      const t0 = now();
      let status = 0;
      let json: unknown = null;
      try {
        const res = await fetch(`${origin}${path}`, { method, headers, body: payload, redirect: "manual" });
        status = res.status;
        for (const c of res.headers.getSetCookie()) {
          const [pair] = c.split(";");
          const eq = pair!.indexOf("=");
          const name = pair!.slice(0, eq).trim();
          const value = pair!.slice(eq + 1).trim();
          if (value === "" || /max-age=0/i.test(c)) this.cookies.delete(name);
          else this.cookies.set(name, value);
        }
        const text = await res.text();
        if ((res.headers.get("content-type") ?? "").includes("json") && text) json = JSON.parse(text);
      } catch {
        status = 0;
      }
      const ms = now() - t0;
      const step = steps[stepOf(t0)]!;
      const failed = status === 0 || status >= 400;
      const code = failed ? `${method} ${path.replace(/[0-9a-f-]{36}/g, ":id").replace(/\?.*$/, "")} -> ${status}` : undefined;
      record(step.http, ms, code, status >= 500 || status === 0);
      if (action) record(statsOf(step, action), ms, code, status >= 500 || status === 0);
      return { status, json, ms };
    }

    async login(): Promise<boolean> {
      await this.http("LoginPage", "GET", "/login", undefined, { accept: "text/html" });
      const r = await this.http("LoginPost", "POST", "/login", new URLSearchParams({ username: this.u.username, password: plan.password, next: "/" }), { accept: "text/html" });
      return r.status < 400 && this.cookies.size > 0;
    }

    connect(): Promise<boolean> {
      const t0 = now();
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => finish(false), 60_000);
        const finish = (ok: boolean) => {
          clearTimeout(timer);
          this.hello = null;
          record(statsOf(steps[stepOf(t0)]!, "WsConnect"), now() - t0, ok ? undefined : "no hello", !ok);
          resolve(ok);
        };
        this.hello = finish;
        const ws = new WebSocket(`ws://127.0.0.1:${plan.port}/ws`, { headers: { cookie: this.cookieHeader(), origin, "x-forwarded-for": this.ip } } as never);
        this.ws = ws;
        ws.onmessage = (event) => this.frame(String(event.data));
        ws.onclose = () => {
          // A socket this user already replaced (Reconnect, Login) must not fail the new one's waits.
          if (this.ws !== ws) return;
          this.ws = null;
          this.hello?.(false);
          this.pendingSubscribe?.(false);
        };
      });
    }

    send(frame: unknown): boolean {
      if (this.ws?.readyState !== 1) return false;
      this.ws.send(JSON.stringify(frame));
      return true;
    }

    frame(data: string): void {
      const type = data.slice(9, data.indexOf('"', 9));
      if (type === "hello") return this.hello?.(true);
      const step = steps[stepOf(now())]!;
      if (type === "message:new") {
        const at = data.indexOf('"clientId":"');
        if (at > 0) {
          const stamp = Number.parseInt(data.slice(at + 12 + 24, at + 12 + 36), 16) / 10;
          if (Number.isFinite(stamp) && stamp > 1e12) record(statsOf(step, "Delivery"), now() - stamp);
          step.delivered++;
        }
        const frame = JSON.parse(data) as { message: { channelId?: string; channel_id?: string; seq: number; id: string } };
        const m = frame.message;
        const channelId = m.channelId ?? m.channel_id;
        if (channelId === this.channel) {
          this.lastSeq.set(channelId, Math.max(this.lastSeq.get(channelId) ?? 0, m.seq));
          this.messageIds.push(m.id);
          if (this.messageIds.length > 50) this.messageIds.shift();
          if (Date.now() - this.lastReadPut > 2000) {
            this.lastReadPut = Date.now();
            void this.http("MarkRead", "PUT", `/api/channels/${this.channel}/read`, { seq: m.seq });
          }
        }
        return;
      }
      if (type === "subscribed") return this.pendingSubscribe?.(true);
      if (type === "device:message") return void this.fetchToDevice();
      if (type === "error") {
        const code = /"code":"([^"]+)"/.exec(data)?.[1] ?? "?";
        step.wsErrors[code] = (step.wsErrors[code] ?? 0) + 1;
      }
    }

    async fetchToDevice(): Promise<void> {
      if (this.toDeviceBusy) {
        this.toDeviceAgain = true;
        return;
      }
      this.toDeviceBusy = true;
      try {
        for (let rounds = 0; rounds < 10 && this.live(); rounds++) {
          this.toDeviceAgain = false;
          const after = this.toDeviceAfter ? `&after=${this.toDeviceAfter}` : "";
          const r = await this.http("ToDeviceFetch", "GET", `/api/e2ee/to-device?device_id=${this.u.deviceId}${after}`);
          const list = (r.json as { messages?: { id: string }[] } | null)?.messages ?? [];
          const last = list.at(-1)?.id;
          if (last) {
            this.toDeviceAfter = last;
            await this.http("ToDeviceAck", "POST", "/api/e2ee/to-device/ack", { device_id: this.u.deviceId, up_to_id: last });
          }
          if (!this.toDeviceAgain) break;
        }
      } finally {
        this.toDeviceBusy = false;
      }
    }

    subscribe(channelIds: string[]): Promise<boolean> {
      return new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => done(false), 30_000);
        const done = (ok: boolean) => {
          clearTimeout(timer);
          this.pendingSubscribe = null;
          resolve(ok);
        };
        this.pendingSubscribe = done;
        if (!this.send({ type: "subscribe", channelIds })) done(false);
      });
    }

    async switchChannel(first = false): Promise<void> {
      const t0 = now();
      const old = this.channel;
      if (!first) {
        this.community = this.u.communities[Math.floor(random() * this.u.communities.length)]!;
        this.channel = this.community.channels[Math.floor(random() * this.community.channels.length)]!;
      }
      const ch = this.channel;
      let failed = false;
      const page = await this.http(null, "GET", `/c/${this.community.id}/ch/${ch}`, undefined, { accept: "text/html", "hx-request": "true", "hx-boosted": "true" });
      failed ||= page.status >= 400;
      const members = await this.http(null, "GET", `/api/channels/${ch}/members`);
      const viewers = (members.json as { viewer_version?: number; members?: { user_id: string; devices?: string[] }[] } | null) ?? {};
      this.viewerVersion.set(ch, viewers.viewer_version ?? 1);
      const readers: { userId: string; deviceId: string }[] = [];
      for (const m of viewers.members ?? []) for (const d of m.devices ?? []) if (m.user_id !== this.u.id) readers.push({ userId: m.user_id, deviceId: d });
      this.readers.set(ch, readers);
      const history = await this.http(null, "GET", `/api/channels/${ch}/messages?limit=50`);
      const msgs = (history.json as { messages?: { id: string; seq: number }[] } | null)?.messages ?? [];
      this.messageIds = msgs.map((m) => m.id);
      if (msgs.length) {
        this.lastSeq.set(ch, Math.max(...msgs.map((m) => m.seq)));
        this.oldestSeq.set(ch, Math.min(...msgs.map((m) => m.seq)));
      }
      const ids = (viewers.members ?? []).slice(0, 50).map((m) => m.user_id);
      if (ids.length) await this.http(null, "GET", `/api/presence?user_ids=${ids.join(",")}`);
      await this.http(null, "GET", "/api/channels/unread");
      if (old !== ch && !first) this.send({ type: "unsubscribe", channelIds: [old] });
      const subT0 = now();
      const ok = await this.subscribe([ch]);
      record(statsOf(steps[stepOf(subT0)]!, "Subscribe"), now() - subT0, ok ? undefined : "no subscribed", false);
      const seq = this.lastSeq.get(ch) ?? 0;
      if (seq > 0) await this.http(null, "PUT", `/api/channels/${ch}/read`, { seq });
      failed ||= members.status >= 400 || history.status >= 400;
      record(statsOf(steps[stepOf(t0)]!, first ? "OpenApp" : "SwitchChannel"), now() - t0, failed ? "a request failed" : undefined);
    }

    async toDevice(action: string, messages: { user_id: string; device_id: string; ciphertext: string }[]): Promise<void> {
      for (let i = 0; i < messages.length && this.live(); i += 200) {
        await this.http(action, "POST", "/api/e2ee/to-device", { sender_device_id: this.u.deviceId, messages: messages.slice(i, i + 200) });
      }
    }

    async createPost(): Promise<void> {
      const ch = this.channel;
      if (!this.distributed.has(ch)) {
        this.distributed.add(ch);
        const readers = this.readers.get(ch) ?? [];
        // A distribution inside a Double Ratchet message: ~550 bytes of base64url per device.
        await this.toDevice("SenderKeyShare", readers.map((r) => ({ user_id: r.userId, device_id: r.deviceId, ciphertext: b64(410) })));
      }
      this.send({ type: "typing:start", channelId: ch });
      await sleep(500 + random() * 2500, this.covering);
      if (!this.live()) return;
      const stamp = Math.round(now() * 10).toString(16).padStart(12, "0");
      const clientId = `${hex(8)}-${hex(4)}-4${hex(3)}-8${hex(3)}-${stamp}`;
      const r = await this.http("CreatePost", "POST", `/api/channels/${ch}/messages`, {
        client_id: clientId,
        scheme: "sk",
        ciphertext: b64(Math.floor((groupMessageBytes() * 3) / 4)),
        sender_device_id: this.u.deviceId,
        viewer_version: this.viewerVersion.get(ch) ?? null,
      });
      if (r.status < 400) steps[stepOf(now())]!.sent++;
      this.send({ type: "typing:stop", channelId: ch });
    }

    async act(action: string): Promise<void> {
      const ch = this.channel;
      switch (action) {
        case "SwitchChannel":
          return this.switchChannel();
        case "CreatePost":
          return this.createPost();
        case "ScrollHistory": {
          const before = this.oldestSeq.get(ch);
          await this.http(action, "GET", `/api/channels/${ch}/messages?${before ? `before_seq=${before}&` : ""}limit=50`);
          return;
        }
        case "UnreadCounts":
          return void (await this.http(action, "GET", "/api/channels/unread"));
        case "Reaction": {
          if (this.messageIds.length === 0 && this.covering) {
            // The smoke run's covering reaction needs a message: post one and read it back.
            await this.createPost();
            const page = await this.http(null, "GET", `/api/channels/${ch}/messages?limit=50`);
            this.messageIds = ((page.json as { messages?: { id: string }[] } | null)?.messages ?? []).map((m) => m.id);
          }
          const id = this.messageIds[Math.floor(random() * this.messageIds.length)];
          if (!id) return;
          const emoji = ["👍", "🎉", "❤️", "😂"][Math.floor(random() * 4)]!;
          return void (await this.http(action, "PUT", `/api/messages/${id}/reactions/${encodeURIComponent(emoji)}`));
        }
        case "Presence": {
          const t0 = now();
          const ok = this.send({ type: "presence:set", status: random() < 0.5 ? "idle" : "online" });
          record(statsOf(steps[stepOf(t0)]!, action), 0, ok ? undefined : "socket closed");
          return;
        }
        case "KeyRequest": {
          const readers = this.readers.get(ch) ?? [];
          const r = readers[Math.floor(random() * readers.length)];
          if (r) await this.toDevice(action, [{ user_id: r.userId, device_id: r.deviceId, ciphertext: b64(300) }]);
          return;
        }
        case "Reconnect": {
          const t0 = now();
          this.ws?.close(1000);
          this.ws = null;
          await this.http(null, "POST", "/api/auth/refresh");
          const ok = (await this.connect()) && (await this.subscribe([ch]));
          const after = this.lastSeq.get(ch) ?? 0;
          await this.http(null, "GET", `/api/channels/${ch}/messages?after_seq=${after}&limit=100`);
          record(statsOf(steps[stepOf(t0)]!, action), now() - t0, ok ? undefined : "reconnect failed");
          return;
        }
        case "Login": {
          const t0 = now();
          this.ws?.close(1000);
          this.ws = null;
          await this.http(null, "POST", "/api/auth/logout");
          this.cookies.clear();
          const ok = (await this.login()) && (await this.connect());
          if (ok) await this.switchChannel(true);
          record(statsOf(steps[stepOf(t0)]!, action), now() - t0, ok ? undefined : "login failed");
          return;
        }
      }
    }

    async run(joinAt: number): Promise<void> {
      await sleep(joinAt - Date.now());
      if (!alive()) return;
      const t0 = now();
      if (this.u.session) {
        // A returning user: the browser still holds the session cookies.
        this.cookies.set("hearth_access", encodeURIComponent(this.u.session.access));
        this.cookies.set("hearth_refresh", encodeURIComponent(this.u.session.refresh));
      }
      // A join that fails (no `hello` in 60 s on a starved box) is tried again, at most 3 times.
      let joined = false;
      for (let attempt = 0; attempt < 3 && !joined && (plan.cover || alive()); attempt++) {
        joined = Boolean(this.u.session || (await this.login())) && (await this.connect());
      }
      if (!joined) {
        record(statsOf(steps[stepOf(t0)]!, "Join"), now() - t0, "join failed");
        return;
      }
      await this.switchChannel(true);
      record(statsOf(steps[stepOf(t0)]!, "Join"), now() - t0);
      for (let s = stepOf(now()); s < steps.length; s++) steps[s]!.activeUsers++;
      if (plan.cover) {
        this.covering = true;
        await this.act(WEIGHTS[this.u.index % WEIGHTS.length]![0]);
        this.covering = false;
      }
      while (alive()) {
        await sleep(exp(plan.thinkMs));
        if (!alive()) break;
        if (!this.ws) {
          await this.act("Reconnect");
          continue;
        }
        let x = random() * WEIGHT_TOTAL;
        const action = WEIGHTS.find(([, w]) => (x -= w) < 0)?.[0] ?? "SwitchChannel";
        await this.act(action);
      }
      this.ws?.close(1000);
    }
  }

  return Promise.all(
    plan.users.map((u) => {
      let step = plan.steps.findIndex((n) => u.index < n);
      if (step < 0) step = plan.steps.length - 1;
      const first = step === 0 ? 0 : plan.steps[step - 1]!;
      const rank = (u.index - first) / Math.max(1, plan.steps[step]! - first);
      return new User(u).run(plan.t0 + step * plan.stepMs + rank * plan.joinSpreadMs);
    }),
  ).then(() => steps);
}

if (import.meta.main) {
  const plan = (await Bun.file(process.argv[2]!).json()) as Plan;
  // run.ts killed outright (SIGKILL: no clean-up of its own): stop the server's process group and exit.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid === parent) return;
    try {
      process.kill(-plan.serverPid, "SIGTERM");
    } catch {}
    process.exit(1);
  }, 1000).unref();
  const steps = await runClients(plan);
  process.stdout.write(`RESULT ${JSON.stringify(steps)}\n`);
  process.exit(0);
}
