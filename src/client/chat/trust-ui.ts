// Verification people can use (issue 11 §5), in the lazy chunk (extras-ui.ts): the Verify panel
// (a contact's devices, each with the 60-digit safety number and its QR code, "Mark as
// verified"), the "verified" badges, the stop before sending to a verified person whose devices
// changed, the "Bob added a new device" line in a DM, and the warning when the server's pinned
// identity changed. A lazy chunk of its own (loaded by chat.js after the messages show, and by
// the settings page for the device list); the crypto and the trust records come from chat.js as
// values (ChatEngine.trust), and so does the QR encoder's loader (src/client/qr.ts, a bundle of
// its own fetched when a panel opens).
// Plain DOM (textContent only), keyboard reachable (native <dialog>, buttons), wraps at 360 px.

import { createSafetyNumbers } from "../e2ee/safety-numbers-core.ts";
import type { callApi } from "./api.ts";
import type { ChatEngine } from "./engine.ts";
import type { Scheme } from "./types.ts";
import type { Viewers } from "./viewers.ts";

type Call = typeof callApi;

// Own copies of ui-kit.ts's helpers: a module shared with the extras chunk would be split into a
// chunk of its own, and Bun's preloading of it would add a static import to chat.js.
function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text !== undefined) n.textContent = text;
  return n;
}

function button(text: string, cls = "btn btn--secondary btn--sm"): HTMLButtonElement {
  const b = h("button", cls, text);
  b.type = "button";
  return b;
}

let dialogs = 0;
/** A modal <dialog> (focus stays inside, Escape closes), removed when closed; focus back on `opener`. */
function openDialog(title: string, opener: HTMLElement | null, opts: { wide?: boolean } = {}): { dialog: HTMLDialogElement; body: HTMLElement; footer: HTMLElement; close(): void } {
  const dialog = h("dialog", opts.wide ? "dialog dialog--wide" : "dialog");
  const heading = h("h2", "dialog__title", title);
  heading.id = `trust-dlg-${++dialogs}`;
  dialog.setAttribute("aria-labelledby", heading.id);
  const header = h("div", "dialog__header");
  const x = button("Close", "btn btn--ghost btn--sm");
  x.setAttribute("aria-label", `Close: ${title}`);
  header.append(heading, x);
  const body = h("div", "dialog__body");
  const footer = h("div", "dialog__footer");
  dialog.append(header, body, footer);
  const close = () => dialog.close();
  x.addEventListener("click", close);
  dialog.addEventListener("close", () => {
    dialog.remove();
    opener?.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  return { dialog, body, footer, close };
}
export type LoadQr = () => Promise<Pick<typeof import("qrcode"), "create">>;
type DeviceAnswer = { devices: { deviceId: string; signingKey: string; identityKey: string; createdAt: string }[] };
type PersonDevice = { deviceId: string; identityKey: Uint8Array; createdAt: string };

/** Fired on document when someone's trust changed (badges update). */
export const TRUST_CHANGED_EVENT = "chat:trust-changed";

function fromB64url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function joinKey(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

async function devicesOf(call: Call, userId: string): Promise<PersonDevice[]> {
  const answer = await call<DeviceAnswer>("GET", `/api/keys/users/${encodeURIComponent(userId)}/devices`);
  return answer.devices.map((d) => ({ deviceId: d.deviceId, identityKey: joinKey(fromB64url(d.signingKey), fromB64url(d.identityKey)), createdAt: d.createdAt }));
}

const shortId = (deviceId: string) => deviceId.slice(0, 8);
const dateOf = (iso: string) => new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });

/** The 60 digits as twelve groups of five, in three lines of four (as read aloud). */
function safetyNumberElement(digits: string): HTMLElement {
  const box = h("p", "safety-number");
  box.dataset.safetyNumber = digits;
  box.setAttribute("aria-label", `Safety number: ${digits.match(/.{5}/g)?.join(" ") ?? digits}`);
  for (const group of digits.match(/.{5}/g) ?? []) box.append(h("span", "safety-number__group", group));
  return box;
}

/** The QR code of the safety payload as an SVG drawn from the encoder's module matrix (no markup strings). */
async function qrElement(loadQr: LoadQr, payload: Uint8Array, label: string): Promise<SVGSVGElement> {
  const { create } = await loadQr();
  const qr = create([{ data: payload, mode: "byte" }], { errorCorrectionLevel: "M" });
  const size = qr.modules.size;
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${size + 8} ${size + 8}`);
  svg.setAttribute("class", "safety-qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const bg = document.createElementNS(NS, "rect");
  for (const [k, v] of [["x", "-4"], ["y", "-4"], ["width", String(size + 8)], ["height", String(size + 8)], ["fill", "#fff"]]) bg.setAttribute(k!, v!);
  let d = "";
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) if (qr.modules.get(r, c)) d += `M${c} ${r}h1v1h-1z`;
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}

// ---- the Verify panel ----------------------------------------------------------------------

export async function openVerifyPanel(engine: ChatEngine, call: Call, loadQr: LoadQr, userId: string, name: string, opener: HTMLElement | null): Promise<void> {
  const { body, footer, close } = openDialog(`Verify ${name}`, opener, { wide: true });
  const status = h("p", "muted", "Loading their devices…");
  status.setAttribute("role", "status");
  body.append(status);
  let devices: PersonDevice[];
  try {
    devices = await devicesOf(call, userId);
  } catch (error) {
    status.textContent = `Could not load ${name}'s devices: ${(error as Error).message}`;
    return;
  }
  if (devices.length === 0) {
    status.textContent = `${name} has not set up encryption on any device yet: there is nothing to compare.`;
    return;
  }
  const state = await engine.trust.check(userId, devices);
  const numbers = createSafetyNumbers(engine.trust.sha512);
  const local = { userId: engine.userId, identityKey: engine.trust.ownKey() };
  status.textContent =
    state === "verified"
      ? `You verified ${name}. These are the devices you compared.`
      : state === "changed"
        ? `${name}'s devices changed since you verified them. Compare again before trusting them.`
        : `Compare these numbers with ${name} in person or on a call you trust (not in this chat). If every number matches, mark ${name} as verified.`;
  body.append(h("p", "muted", "Each of their devices has its own number with this device. You can also scan the QR code with their device instead of reading the digits."));
  const list = h("ul", "verify-devices");
  for (const d of devices) {
    const li = h("li", "verify-device");
    li.dataset.verifyDevice = d.deviceId;
    li.append(h("h3", "verify-device__title", `Device ${shortId(d.deviceId)} · added ${dateOf(d.createdAt)}`));
    li.append(safetyNumberElement(numbers.computeSafetyNumber(local, { userId, identityKey: d.identityKey })));
    const qrSlot = h("div", "verify-device__qr");
    li.append(qrSlot);
    void qrElement(loadQr, numbers.createSafetyQrPayload(local, { userId, identityKey: d.identityKey }), `QR code of the safety number for device ${shortId(d.deviceId)}`)
      .then((svg) => qrSlot.append(svg))
      .catch(() => qrSlot.append(h("p", "muted", "The QR code could not be drawn; compare the digits.")));
    list.append(li);
  }
  body.append(list);
  const mark = button(state === "verified" ? "Verified ✓ — mark again" : `Mark ${name} as verified`, "btn btn--primary");
  mark.dataset.markVerified = "";
  mark.addEventListener("click", async () => {
    mark.disabled = true;
    await engine.trust.markVerified(userId, devices.map(({ deviceId, identityKey }) => ({ deviceId, identityKey })));
    document.dispatchEvent(new CustomEvent(TRUST_CHANGED_EVENT, { detail: { userId } }));
    status.textContent = `${name} is verified on this device. If their devices change, you will be asked before your next message to them is sent.`;
    mark.textContent = "Verified ✓";
  });
  const done = button("Close");
  done.addEventListener("click", close);
  footer.append(done, mark);
}

// ---- badges --------------------------------------------------------------------------------

/**
 * "Verified" badges next to the person: the DM header ([data-trust-badge=<userId>]) and the
 * member list rows (.member[data-presence-user]). Only people with a trust record are checked
 * against their current devices.
 */
async function renderTrustBadges(engine: ChatEngine, devicesByUser: ReadonlyMap<string, readonly string[]>): Promise<void> {
  const people = new Set<string>();
  for (const b of document.querySelectorAll<HTMLElement>("[data-trust-badge]")) people.add(b.dataset.trustBadge!);
  for (const row of document.querySelectorAll<HTMLElement>(".member[data-presence-user]")) people.add(row.dataset.presenceUser!);
  for (const userId of people) {
    const devices = devicesByUser.get(userId);
    const state = devices ? await engine.trust.check(userId, devices.map((deviceId) => ({ deviceId }))) : undefined;
    for (const b of document.querySelectorAll<HTMLElement>(`[data-trust-badge="${CSS.escape(userId)}"]`)) showBadge(b, state);
    // A member row's Verify button is its badge too (no room for both in the panel).
    for (const b of document.querySelectorAll<HTMLElement>(`.member[data-presence-user="${CSS.escape(userId)}"] .member__verify`)) {
      b.dataset.trustState = state ?? "";
      b.textContent = state === "verified" ? "Verified" : state === "changed" ? "Keys changed" : "Verify";
      b.setAttribute("aria-label", `${b.textContent} — ${b.dataset.verifyName}`);
      b.classList.toggle("member__trust", !!state);
      b.classList.toggle("badge--success", state === "verified");
      b.classList.toggle("badge--warning", state === "changed");
    }
  }
}

/** A "Verify" button on each other member's row of the member list (opens the Verify panel). */
function addMemberVerifyButtons(selfId: string): void {
  for (const row of document.querySelectorAll<HTMLElement>(".member[data-presence-user]")) {
    const userId = row.dataset.presenceUser!;
    if (userId === selfId || row.querySelector("[data-verify-user]")) continue;
    const name = row.querySelector(".member__name")?.textContent ?? "them";
    const b = button("Verify", "btn btn--ghost btn--sm member__verify");
    b.setAttribute("aria-label", `Verify — ${name}`);
    b.dataset.verifyUser = userId;
    b.dataset.verifyName = name;
    row.append(b);
  }
}

function showBadge(b: HTMLElement, state: "verified" | "changed" | undefined): void {
  b.hidden = !state;
  b.dataset.trustState = state ?? "";
  b.textContent = state === "verified" ? "Verified" : state === "changed" ? "Keys changed" : "";
  b.classList.toggle("badge--success", state === "verified");
  b.classList.toggle("badge--warning", state === "changed");
}

// ---- the stop before sending ----------------------------------------------------------------

/**
 * Before a send: readers the user verified whose devices changed since (a new device, a device
 * set up again) must be acknowledged first. Resolves true to send, false to keep the draft.
 */
async function confirmReaders(engine: ChatEngine, devicesByUser: ReadonlyMap<string, readonly string[]>, names: ReadonlyMap<string, string>, call: Call, loadQr: LoadQr, opener: HTMLElement | null): Promise<boolean> {
  const changed: string[] = [];
  for (const [userId, devices] of devicesByUser) {
    if (userId === engine.userId) continue;
    if ((await engine.trust.check(userId, devices.map((deviceId) => ({ deviceId })))) === "changed") changed.push(userId);
  }
  if (changed.length === 0) return true;
  const who = changed.map((id) => names.get(id) ?? "Someone");
  const list = who.length === 1 ? who[0]! : `${who.slice(0, -1).join(", ")} and ${who[who.length - 1]}`;
  return new Promise<boolean>((resolve) => {
    let answer = false;
    const { dialog, body, footer, close } = openDialog(`${list}: security keys changed`, opener);
    dialog.dataset.keyChange = "";
    dialog.setAttribute("role", "alertdialog");
    body.append(
      h("p", undefined, `You verified ${list}, and since then a device was added to their account or set up again with new keys. Your message has not been sent.`),
      h("p", undefined, "Usually this just means they signed in on a new phone or browser. It could also mean someone else added a device to their account: if that worries you, ask them in person or on a call whether they added a device, then compare safety numbers again."),
      h("p", "muted", "If you send anyway, they will show as not verified until you compare safety numbers again."),
    );
    const cancel = button("Don't send");
    cancel.addEventListener("click", close);
    const review = button("Compare safety numbers");
    review.addEventListener("click", () => {
      close();
      void openVerifyPanel(engine, call, loadQr, changed[0]!, who[0]!, opener);
    });
    const go = button("I understand, send", "btn btn--primary");
    go.dataset.acknowledgeKeys = "";
    go.addEventListener("click", async () => {
      for (const id of changed) await engine.trust.acknowledge(id);
      for (const userId of changed) document.dispatchEvent(new CustomEvent(TRUST_CHANGED_EVENT, { detail: { userId } }));
      answer = true;
      close();
    });
    dialog.addEventListener("close", () => resolve(answer));
    footer.append(cancel, review, go);
    cancel.focus();
  });
}

// ---- "Bob added a new device" --------------------------------------------------------------

/** In a conversation (the line above the composer): a reader's device list changed. */
function noteDeviceChange(host: HTMLElement, name: string, change: string, verified: boolean, onVerify: () => void): void {
  let box = host.querySelector<HTMLElement>("[data-device-notes]");
  if (!box) {
    box = h("div", "device-notes");
    box.dataset.deviceNotes = "";
    box.setAttribute("role", "status");
    host.prepend(box);
  }
  const line = h("p", "device-note");
  line.append(h("span", undefined, change === "device_added" ? `${name} added a new device.` : `${name} removed a device.`));
  if (change === "device_added") {
    line.append(" ", h("span", "muted", verified ? "You verified them before: you will be asked before your next message is sent." : "Messages are encrypted for it from now on."));
    const verify = button("Compare safety numbers", "btn btn--ghost btn--sm");
    verify.addEventListener("click", onVerify);
    line.append(" ", verify);
  }
  const dismiss = button("Dismiss", "btn btn--ghost btn--sm");
  dismiss.setAttribute("aria-label", `Dismiss: ${line.firstChild?.textContent ?? ""}`);
  dismiss.addEventListener("click", () => line.remove());
  line.append(" ", dismiss);
  box.append(line);
  while (box.children.length > 3) box.firstElementChild?.remove();
}

// ---- the server's identity ------------------------------------------------------------------

/**
 * The server proved an identity other than the one this device pinned (or could not prove one):
 * a warning above the conversation that says what it means and what to do. Sending stays off
 * until the user accepts the new identity (after checking with the admin) — `accept` — or leaves.
 */
function showServerIdentityWarning(host: HTMLElement, fingerprint: string, invalid: boolean, accept: (() => Promise<void>) | null): HTMLElement {
  const existing = host.querySelector<HTMLElement>("[data-server-identity-warning]");
  if (existing) return existing;
  const banner = h("section", "e2ee-banner e2ee-banner--warning server-warning");
  banner.dataset.serverIdentityWarning = "";
  banner.setAttribute("role", "alert");
  banner.setAttribute("aria-label", "Server identity warning");
  banner.append(
    h("p", "e2ee-banner__title", invalid ? "This server could not prove its identity" : "This server's identity has changed"),
    h(
      "p",
      "e2ee-banner__text",
      "This device remembered the server's identity key the first time it connected, and the server now presents a different one. Either the admin moved Hearth to a new installation or restored it without its keys, or you are not talking to your real server (someone in between, or a copy). Your messages stay end-to-end encrypted either way, but a server you do not trust can hand you wrong keys for other people.",
    ),
    h("p", "e2ee-banner__text", "What to do: ask your admin, in person or through another channel, whether the server was replaced, and compare this fingerprint with the one they give you. Until then, sending from this device is paused; trust the new identity only once they confirmed it."),
  );
  const key = h("code", "e2ee-banner__key", fingerprint);
  key.dataset.serverFingerprint = "";
  banner.append(key);
  const row = h("div", "e2ee-banner__form");
  const help = h("a", "btn btn--ghost btn--sm", "What this means");
  help.href = "/help/encryption#server-identity";
  row.append(help);
  const status = h("p", "e2ee-banner__status");
  status.setAttribute("role", "status");
  if (accept) {
    const ok = button("Trust the new identity", "btn btn--secondary btn--sm");
    ok.dataset.acceptServerIdentity = "";
    ok.addEventListener("click", async () => {
      ok.disabled = true;
      try {
        await accept();
        status.textContent = "The new identity is remembered. Reloading…";
        location.reload();
      } catch (error) {
        status.textContent = `That did not work: ${(error as Error).message}`;
        ok.disabled = false;
      }
    });
    row.append(ok);
  }
  banner.append(row, status);
  host.prepend(banner);
  return banner;
}

// ---- your own devices (settings) -----------------------------------------------------------

/**
 * Settings › Security, next to the signed-in sessions: this account's encryption devices, this
 * browser's marked, each removable through DELETE /api/keys/devices/{id} (the key service's own
 * route: it stops everyone from encrypting to it; a removed device cannot read new messages).
 */
export async function mountOwnDevices(root: HTMLElement, call: Call, keyStores: { open(name: string): Promise<{ get(name: string): Promise<string | undefined> }> }): Promise<void> {
  const selfId = root.dataset.e2eeDevices ?? "";
  // This browser's device, if it has one (never created here): engine-state.ts's DEVICE_RECORD,
  // spelled out because importing it here would share a module with chat.js.
  const thisDevice = await keyStores
    .open(`hearth-chat-${selfId}`)
    .then((store) => store.get("chat:device"))
    .then((raw) => (raw ? String((JSON.parse(raw) as { deviceId?: unknown }).deviceId ?? "") : null))
    .catch(() => null);
  const list = root.querySelector<HTMLElement>("[data-e2ee-device-list]") ?? root.appendChild(h("ul", "session-list"));
  const status = root.querySelector<HTMLElement>("[data-e2ee-device-status]") ?? root.appendChild(h("p", "muted"));
  status.setAttribute("role", "status");
  const render = async () => {
    let devices: PersonDevice[];
    try {
      devices = await devicesOf(call, selfId);
    } catch (error) {
      status.textContent = `Could not load your devices: ${(error as Error).message}`;
      return;
    }
    list.replaceChildren();
    if (devices.length === 0) status.textContent = "No device has set up encryption yet. Opening a chat sets it up in that browser.";
    for (const d of devices) {
      const mine = d.deviceId === thisDevice;
      const li = h("li", "session");
      li.dataset.e2eeDevice = d.deviceId;
      const main = h("div", "session__main");
      const title = h("p", "session__device", `Device ${shortId(d.deviceId)} `);
      if (mine) title.append(h("span", "badge badge--success", "This browser"));
      main.append(title, h("p", "session__meta muted", `Encryption set up ${dateOf(d.createdAt)}`));
      const remove = button("Remove…");
      remove.setAttribute("aria-label", `Remove device ${shortId(d.deviceId)}${mine ? " (this browser)" : ""}`);
      const confirmRow = h("div", "btn-row device-confirm");
      confirmRow.hidden = true;
      const warn = h("p", "device-confirm__text", mine
        ? "This browser will stop receiving new messages and cannot send until you set encryption up again. Messages already here stay readable from your key backup."
        : "That device will stop receiving new messages at once; people stop encrypting for it. It can be set up again as a new device later.");
      const yes = button("Remove device", "btn btn--danger btn--sm");
      yes.dataset.confirmRemove = "";
      const no = button("Cancel");
      confirmRow.append(warn, yes, no);
      remove.addEventListener("click", () => {
        confirmRow.hidden = false;
        remove.hidden = true;
        no.focus();
      });
      no.addEventListener("click", () => {
        confirmRow.hidden = true;
        remove.hidden = false;
        remove.focus();
      });
      yes.addEventListener("click", async () => {
        yes.disabled = true;
        try {
          await call("DELETE", `/api/keys/devices/${encodeURIComponent(d.deviceId)}`);
          status.textContent = mine ? "This browser's device was removed. Opening a chat offers to set it up again." : `Device ${shortId(d.deviceId)} was removed.`;
          await render();
          (list.querySelector<HTMLButtonElement>("button") ?? root.querySelector<HTMLElement>("h2"))?.focus();
        } catch (error) {
          status.textContent = `Could not remove the device: ${(error as Error).message}`;
          yes.disabled = false;
        }
      });
      li.append(main, remove, confirmRow);
      list.append(li);
    }
  };
  const loading = status.textContent;
  await render();
  if (status.textContent === loading) status.textContent = "";
  root.dataset.e2eeDevicesReady = "";
}

// ---- wiring (chat.js hands the conversation over) ----------------------------------------

export interface TrustContext {
  engine: ChatEngine;
  call: Call;
  loadQr: LoadQr;
  selfId: string;
  scheme: Scheme;
  /** The conversation's readers, kept current by index.ts. */
  viewers: Viewers;
  names: ReadonlyMap<string, string>;
  pane: HTMLElement;
  input: HTMLTextAreaElement | null;
  notify(text: string): void;
}

export interface TrustApi {
  /** Before a send: false puts `text` back in the composer (a verified reader's keys changed, or the server's identity did). */
  beforeSend(text: string): Promise<boolean>;
  /** viewers:changed: in a DM, fetch the readers now, so a device change shows at once ("Bob added a new device"). */
  onViewersChanged(): void;
  dispose(): void;
}

/** GET /api/keys/server-identity with a fresh challenge; the engine checks the proof and the pin. */
async function checkServer(ctx: TrustContext): Promise<{ check: string; publicKey: Uint8Array; fingerprint: string }> {
  const challenge = crypto.getRandomValues(new Uint8Array(32));
  const challengeText = btoa(String.fromCharCode(...challenge)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const answer = await ctx.call<{ publicKey: string; fingerprint: string; signature: string }>("GET", `/api/keys/server-identity?challenge=${challengeText}`);
  const publicKey = fromB64url(answer.publicKey);
  return { check: await ctx.engine.trust.checkServer(publicKey, challenge, fromB64url(answer.signature)), publicKey, fingerprint: answer.fingerprint };
}

export function mountTrust(ctx: TrustContext): TrustApi {
  const cleanup: (() => void)[] = [];
  const devicesNow = () => ctx.viewers.known?.devicesByUser ?? new Map<string, string[]>();
  const badges = () => {
    addMemberVerifyButtons(ctx.selfId);
    void renderTrustBadges(ctx.engine, devicesNow()).catch(() => {});
  };
  badges();
  document.addEventListener(TRUST_CHANGED_EVENT, badges);
  cleanup.push(() => document.removeEventListener(TRUST_CHANGED_EVENT, badges));
  const verify = (userId: string, name: string, opener: HTMLElement | null) => void openVerifyPanel(ctx.engine, ctx.call, ctx.loadQr, userId, name, opener);
  const onVerifyClick = (event: Event) => {
    const trigger = (event.target as Element | null)?.closest<HTMLElement>("[data-verify-user]");
    if (trigger?.dataset.verifyUser) verify(trigger.dataset.verifyUser, trigger.dataset.verifyName ?? "them", trigger);
  };
  document.addEventListener("click", onVerifyClick);
  cleanup.push(() => document.removeEventListener("click", onVerifyClick));
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[data-verify-user]")) b.disabled = false;

  // A reader's devices changed (compared with the list before): a line in a DM, the badges.
  let before = devicesNow();
  cleanup.push(
    ctx.viewers.onChange((list) => {
      const previous = before;
      before = list.devicesByUser;
      badges();
      if (ctx.scheme !== "pw") return;
      for (const [userId, devices] of list.devicesByUser) {
        const old = previous.get(userId);
        // A first device is someone setting up encryption, not a change worth a line.
        if (userId === ctx.selfId || !old?.length) continue;
        const name = list.names.get(userId) ?? "Someone";
        const added = devices.filter((d) => !old.includes(d)).length;
        const removed = old.filter((d) => !devices.includes(d)).length;
        if (!added && !removed) continue;
        void ctx.engine.trust.check(userId, devices.map((deviceId) => ({ deviceId }))).then((state) => {
          const host = ctx.pane.querySelector<HTMLElement>(".pane-composer") ?? ctx.pane;
          if (added) noteDeviceChange(host, name, "device_added", state === "changed", () => verify(userId, name, null));
          if (removed) noteDeviceChange(host, name, "device_revoked", false, () => {});
        });
      }
    }),
  );

  // The server proves its identity on every load; a change pauses sending until the user decides.
  let serverDistrusted = false;
  void checkServer(ctx).then(({ check, publicKey, fingerprint }) => {
    ctx.pane.dataset.serverIdentity = check; // first-use | match | changed | invalid
    if (check === "match" || check === "first-use") return;
    serverDistrusted = true;
    if (ctx.input) ctx.input.disabled = true;
    // Where the user writes (sending is what is paused), as the "signed out of encryption" banner.
    const host = ctx.pane.querySelector<HTMLElement>(".pane-composer") ?? ctx.pane;
    showServerIdentityWarning(host, fingerprint, check === "invalid", check === "changed" ? () => ctx.engine.trust.acceptServer(publicKey) : null);
  }).catch(() => {});

  return {
    async beforeSend(text) {
      let go = !serverDistrusted;
      if (go) go = await confirmReaders(ctx.engine, (await ctx.viewers.current()).devicesByUser, ctx.names, ctx.call, ctx.loadQr, ctx.input);
      else ctx.notify("Sending is paused: this server's identity changed (see the warning).");
      const input = ctx.input;
      if (!go && input && !input.value) {
        input.value = text;
        input.dispatchEvent(new Event("input")); // the draft is kept as typed
      }
      return go;
    },
    onViewersChanged() {
      if (ctx.scheme === "pw") void ctx.viewers.current().catch(() => {});
    },
    dispose() {
      for (const fn of cleanup) fn();
    },
  };
}
