/**
 * hearthctl's commands (hearthctl.ts runs them): each a thin layer over the services the admin
 * area uses, so the rules are the same (nobody acts on the owner; reasons 1–500 characters).
 * Idempotent: a command whose effect is already in place reports so and succeeds.
 */
import { sql } from "kysely";
import type { AppDeps } from "../deps.ts";
import { NotFoundError } from "../errors.ts";
import { adminResetLink, adminSuspend, adminUnsuspend, endAllSessions, endUserSessions, listUsers, setAdminPowers, USER_FILTERS, type UserFilter } from "../features/admin/index.ts";
import { anchorText, checkAnchor, parseAnchor, sealAuditLog, verifyAuditLog } from "../features/audit/index.ts";
import { ADMIN_POWERS, authKernelOf, createInvite, ensureSetupToken, type Actor, type RequestMeta } from "../features/auth/index.ts";

export class UsageError extends Error {}

export type CliContext = {
  deps: AppDeps;
  json: boolean;
  out(text: string): void;
  options: Record<string, string | boolean | undefined>;
};

/** Audit entries of the command line: no address, the tool's name as user agent. */
const META: RequestMeta = { ip: "", userAgent: "hearthctl" };

type Command = {
  name: string;
  usage: string;
  /** Lines of --help: usage and what it does. */
  help: [string, string][];
  run(ctx: CliContext, args: string[]): Promise<number>;
};

const db = (ctx: CliContext) => ctx.deps.database.db;
const now = (ctx: CliContext) => new Date(authKernelOf(ctx.deps).now());

function print(ctx: CliContext, json: unknown, text: string): void {
  ctx.out(ctx.json ? JSON.stringify(json) : text);
}

function needArgs(args: string[], n: number, usage: string): void {
  if (args.length !== n) throw new UsageError(`expected: ${usage}`);
}

/** A user by username (any case) or id. */
async function findUser(ctx: CliContext, name: string): Promise<{ id: string; username: string; suspended: boolean; isAdmin: boolean }> {
  const byId = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(name);
  const row = await db(ctx)
    .selectFrom("users")
    .select(["id", "username", "suspended_at", "is_admin"])
    .where(byId ? sql<boolean>`id = ${name}::uuid` : sql<boolean>`lower(username) = ${name.toLowerCase()}`)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No user named ${name}.`, "USER_NOT_FOUND");
  return { id: row.id, username: row.username, suspended: row.suspended_at !== null, isAdmin: row.is_admin };
}

/** The services act for an admin: the command line acts with the owner's authority. */
async function ownerActor(ctx: CliContext): Promise<Actor> {
  const owner = await db(ctx).selectFrom("users").select(["id", "username", "display_name"]).where("is_owner", "=", true).executeTakeFirst();
  if (!owner) throw new NotFoundError("This instance has no owner account yet: create it first (bun run hearthctl setup-link).", "NO_OWNER");
  return { userId: owner.id, sessionId: "hearthctl", username: owner.username, displayName: owner.display_name, isOwner: true, isAdmin: true, adminPowers: [...ADMIN_POWERS], via: "bearer" };
}

function reasonOf(ctx: CliContext): string {
  const reason = ctx.options.reason;
  if (typeof reason !== "string") throw new UsageError("--reason TEXT is required: the user sees it when they try to sign in.");
  return reason;
}

const base = (ctx: CliContext) => ctx.deps.config.publicOrigin ?? "<your Hearth address>";

export const COMMANDS: Command[] = [
  {
    name: "setup-link",
    usage: "setup-link",
    help: [["setup-link", "a new one-time link to create the owner account (before the first account)"]],
    async run(ctx, args) {
      needArgs(args, 0, this.usage);
      const token = await ensureSetupToken(ctx.deps);
      if (!token) throw new NotFoundError("This instance already has accounts: the setup link exists only before the first one.", "SETUP_DONE");
      const url = `${base(ctx)}/register?setup_token=${token}`;
      print(ctx, { setup_url: url }, `Open this one-time link to create the owner account (any earlier link stopped working):\n${url}`);
      return 0;
    },
  },
  {
    name: "invite",
    usage: "invite create [--max-uses N] [--expires-hours H]",
    help: [["invite create [--max-uses N] [--expires-hours H]", "a registration invite and its link"]],
    async run(ctx, args) {
      needArgs(args, 1, this.usage);
      if (args[0] !== "create") throw new UsageError(`expected: ${this.usage}`);
      const int = (name: string, max: number) => {
        const raw = ctx.options[name];
        if (raw === undefined) return undefined;
        const n = Number(raw);
        if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}.`);
        return n;
      };
      const invite = await createInvite(authKernelOf(ctx.deps), await ownerActor(ctx), { maxUses: int("max-uses", 100_000), expiresInHours: int("expires-hours", 8760) }, META);
      const url = `${base(ctx)}/register?invite=${invite.code}`;
      print(ctx, { code: invite.code, url, max_uses: invite.maxUses, expires_at: invite.expiresAt?.toISOString() ?? null }, `Invite code ${invite.code}\n${url}`);
      return 0;
    },
  },
  {
    name: "users",
    usage: "users list|find|suspend|unsuspend|end-sessions …",
    help: [
      ["users list [--filter all|suspended|admins|never_signed_in]", "accounts, 50 at most"],
      ["users find TEXT", "search username, display name and email"],
      ["users suspend USER --reason TEXT", "suspend (sessions end; sign-in answers ACCOUNT_SUSPENDED)"],
      ["users unsuspend USER", "lift a suspension"],
      ["users end-sessions USER", "sign one account out everywhere"],
      ["users reset-link USER", "a one-time password-reset link to hand over (24 h)"],
    ],
    async run(ctx, args) {
      const [sub, ...rest] = args;
      if (sub === "suspend" || sub === "unsuspend" || sub === "end-sessions" || sub === "reset-link") return USER_ACTIONS[sub](ctx, rest);
      if (sub !== "list" && sub !== "find") throw new UsageError(`expected: ${this.usage}`);
      if (sub === "find") needArgs(rest, 1, "users find TEXT");
      else needArgs(rest, 0, "users list [--filter …]");
      const filter = (ctx.options.filter ?? "all") as UserFilter;
      if (!USER_FILTERS.includes(filter)) throw new UsageError(`--filter must be one of ${USER_FILTERS.join(", ")}.`);
      const r = await listUsers(db(ctx), { q: sub === "find" ? rest[0] : undefined, filter, now: now(ctx) });
      const rows = r.users.map((u) => ({ id: u.id, username: u.username, display_name: u.displayName, email: u.email, admin: u.isAdmin, owner: u.isOwner, suspended: u.suspendedAt !== null, last_seen_at: u.lastSeenAt?.toISOString() ?? null }));
      print(ctx, { users: rows, has_more: r.hasMore }, rows.length === 0 ? "No users match." : rows.map((u) => `${u.username}\t${u.id}\t${u.owner ? "owner" : u.admin ? "admin" : "member"}${u.suspended ? "\tsuspended" : ""}\tlast seen ${u.last_seen_at ?? "never"}`).join("\n") + (r.hasMore ? "\n(more: narrow the search)" : ""));
      return 0;
    },
  },
  {
    name: "admin",
    usage: "admin grant USER [--powers all|p1,p2] | admin revoke USER",
    help: [
      ["admin grant USER [--powers all|p1,p2]", `make USER an admin (powers: ${ADMIN_POWERS.join(", ")}; default all)`],
      ["admin revoke USER", "take every admin power away"],
    ],
    async run(ctx, args) {
      needArgs(args, 2, this.usage);
      const [sub, name] = args as [string, string];
      if (sub !== "grant" && sub !== "revoke") throw new UsageError(`expected: ${this.usage}`);
      const raw = typeof ctx.options.powers === "string" ? ctx.options.powers : "all";
      const powers = sub === "revoke" ? [] : raw === "all" ? [...ADMIN_POWERS] : raw.split(",").map((p) => p.trim()).filter(Boolean);
      const user = await findUser(ctx, name);
      const after = await setAdminPowers(ctx.deps, await ownerActor(ctx), { id: user.id }, { isAdmin: sub === "grant", powers }, META);
      print(ctx, { id: after.id, admin: sub === "grant", powers: after.powers }, sub === "grant" ? `${after.username} is an admin with: ${after.powers.join(", ") || "no power"}.` : `${user.username} is no longer an admin.`);
      return 0;
    },
  },
  {
    name: "sessions",
    usage: "sessions end-all",
    help: [["sessions end-all", "sign everyone out (API tokens included)"]],
    async run(ctx, args) {
      needArgs(args, 1, this.usage);
      if (args[0] !== "end-all") throw new UsageError(`expected: ${this.usage}`);
      const count = await endAllSessions(ctx.deps, await ownerActor(ctx), META);
      print(ctx, { revoked_count: count }, `Ended ${count} session${count === 1 ? "" : "s"}.`);
      return 0;
    },
  },
  {
    name: "audit",
    usage: "audit verify [--anchor LINE] | audit anchor",
    help: [
      ["audit verify [--anchor LINE]", "check the audit log's hash chain (exit 1 when broken)"],
      ["audit anchor", "print the current anchor to keep off the server"],
    ],
    async run(ctx, args) {
      needArgs(args, 1, this.usage);
      const key = ctx.deps.secrets.auditKey;
      const { head } = await sealAuditLog(db(ctx), key);
      if (args[0] === "anchor") {
        print(ctx, { anchor: anchorText(head), head }, anchorText(head));
        return 0;
      }
      if (args[0] !== "verify") throw new UsageError(`expected: ${this.usage}`);
      const v = await verifyAuditLog(db(ctx), key);
      const given = ctx.options.anchor;
      let anchor: string | undefined;
      if (typeof given === "string") {
        const parsed = parseAnchor(given);
        if (!parsed) throw new UsageError("--anchor must be a line such as: hearth-audit-anchor v1 PLACE HASH");
        anchor = await checkAnchor(db(ctx), parsed);
      }
      const ok = v.ok && (anchor === undefined || anchor === "ok");
      const text = v.ok
        ? `Chain intact: ${v.checked} entries checked${v.checkpoint ? ` from the checkpoint at place ${v.checkpoint.pos}` : ""} up to place ${v.head.pos}.`
        : `Chain BROKEN at place ${v.broken!.pos}${v.broken!.id ? ` (entry ${v.broken!.id})` : ""}: ${v.broken!.reason}.`;
      print(ctx, { ok, chain_ok: v.ok, checked: v.checked, head: v.head, broken: v.broken, anchor: anchor ?? null }, anchor ? `${text}\nAnchor: ${anchor}.` : text);
      return ok ? 0 : 1;
    },
  },
];

const USER_ACTIONS: Record<"suspend" | "unsuspend" | "end-sessions" | "reset-link", (ctx: CliContext, args: string[]) => Promise<number>> = {
  async suspend(ctx, args) {
    needArgs(args, 1, "users suspend USER --reason TEXT");
    const reason = reasonOf(ctx);
    const user = await findUser(ctx, args[0]!);
    if (user.suspended) {
      print(ctx, { id: user.id, suspended: true, changed: false }, `${user.username} is already suspended.`);
      return 0;
    }
    await adminSuspend(ctx.deps, await ownerActor(ctx), user.id, reason, META);
    print(ctx, { id: user.id, suspended: true, changed: true }, `Suspended ${user.username}; their sessions ended.`);
    return 0;
  },
  async unsuspend(ctx, args) {
    needArgs(args, 1, "users unsuspend USER");
    const user = await findUser(ctx, args[0]!);
    if (!user.suspended) {
      print(ctx, { id: user.id, suspended: false, changed: false }, `${user.username} is not suspended.`);
      return 0;
    }
    await adminUnsuspend(ctx.deps, await ownerActor(ctx), user.id, META);
    print(ctx, { id: user.id, suspended: false, changed: true }, `${user.username} may sign in again.`);
    return 0;
  },
  async "reset-link"(ctx, args) {
    needArgs(args, 1, "users reset-link USER");
    const user = await findUser(ctx, args[0]!);
    const link = await adminResetLink(ctx.deps, await ownerActor(ctx), user.id, base(ctx), META);
    print(ctx, { id: user.id, reset_url: link.url, expires_at: link.expiresAt.toISOString() }, `One-time link for ${user.username}, valid until ${link.expiresAt.toISOString()} (an earlier link stopped working):\n${link.url}\nTheir encrypted history stays readable only with their recovery key.`);
    return 0;
  },
  async "end-sessions"(ctx, args) {
    needArgs(args, 1, "users end-sessions USER");
    const user = await findUser(ctx, args[0]!);
    const count = await endUserSessions(ctx.deps, await ownerActor(ctx), user.id, META);
    print(ctx, { id: user.id, revoked_count: count }, `Ended ${count} session${count === 1 ? "" : "s"} of ${user.username}.`);
    return 0;
  },
};

export async function runCommand(ctx: CliContext, positionals: string[]): Promise<number> {
  const [name, ...args] = positionals;
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command: ${name}`);
  return command.run(ctx, args);
}
