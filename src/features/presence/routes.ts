/**
 * GET /api/presence?user_ids=a,b,…   initial presence (≤ 200 ids). Users the caller shares no
 *                                    community or DM with are omitted, exactly like unknown ids.
 * GET|PUT /api/account/preferences   {read_receipts}: whether reading publishes read:receipt.
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { InvalidInputError } from "../../errors.ts";
import { isUuid } from "../../shared/protocol.ts";
import { authGuard } from "../auth/index.ts";
import { presenceOf, visibleTo } from "./index.ts";

export const MAX_PRESENCE_IDS = 200;

export function presenceRoutes(deps: AppDeps) {
  const db = deps.database.db;
  const preferences = async (userId: string) => {
    const row = await db.selectFrom("users").select("read_receipts").where("id", "=", userId).executeTakeFirstOrThrow();
    return { read_receipts: row.read_receipts };
  };
  return new Elysia({ name: "presence-api" })
    .use(authGuard(deps))
    .get(
      "/api/presence",
      async ({ actor, query }) => {
        const ids = [...new Set((query.user_ids ?? "").split(",").map((s) => s.trim().toLowerCase()).filter(Boolean))];
        if (ids.length > MAX_PRESENCE_IDS) throw new InvalidInputError(`At most ${MAX_PRESENCE_IDS} user ids per request.`, { user_ids: "Too many." });
        if (!ids.every(isUuid)) throw new InvalidInputError('The field "user_ids" must be comma-separated user ids.', { user_ids: "Invalid." });
        const presence = presenceOf(deps);
        const allowed = await visibleTo(deps, actor.userId, ids);
        const out: Record<string, string> = {};
        if (!presence) {
          for (const id of allowed) out[id] = "offline";
          return { presence: out };
        }
        const others = allowed.filter((id) => id !== actor.userId);
        for (const [id, status] of await presence.visible(others)) out[id] = status;
        if (allowed.includes(actor.userId)) out[actor.userId] = await presence.own(actor.userId);
        return { presence: out };
      },
      { auth: true, query: t.Object({ user_ids: t.Optional(t.String({ maxLength: 40 * MAX_PRESENCE_IDS })) }) },
    )
    .get("/api/account/preferences", ({ actor }) => preferences(actor.userId), { auth: true })
    .put(
      "/api/account/preferences",
      async ({ actor, body }) => {
        if (body.read_receipts !== undefined) await db.updateTable("users").set({ read_receipts: body.read_receipts }).where("id", "=", actor.userId).execute();
        return preferences(actor.userId);
      },
      { auth: true, body: t.Object({ read_receipts: t.Optional(t.Boolean()) }) },
    );
}
