/**
 * The Settings tab (docs/admin.md "Settings"), power `server_settings`: GET/PUT /api/admin/settings,
 * GET/POST /admin/settings.
 */
import { Elysia, t } from "elysia";
import type { AppDeps } from "../../deps.ts";
import { page, redirect } from "../../http/render.ts";
import { queryOf, text } from "../../http/input-schemas.ts";
import { COMMUNITY_CREATION_MODES, REGISTRATION_MODES, type CommunityCreationMode, type RegistrationMode } from "../../db/runtime-settings.ts";
import { announcementBanner } from "../announcements/index.ts";
import { AccountShell, authGuard, requestMeta, shellUserOf, type Actor } from "../auth/index.ts";
import { redactedConfig } from "./redact.ts";
import { readRuntimeSettings, setRuntimeSettings, type RuntimeSettings } from "./service.ts";
import { SettingsPage } from "./views.tsx";

const settingJson = <T,>(s: { value: T; default: T; overridden: boolean }) => ({ value: s.value, default: s.default, overridden: s.overridden });
const runtimeJson = (r: RuntimeSettings) => ({ registration_mode: settingJson(r.registrationMode), community_creation_mode: settingJson(r.communityCreationMode) });

const RegistrationField = t.Union([...REGISTRATION_MODES.map((m) => t.Literal(m)), t.Null()], { description: "null: back to REGISTRATION_MODE." });
const CommunityField = t.Union([...COMMUNITY_CREATION_MODES.map((m) => t.Literal(m)), t.Null()], { description: "null: back to COMMUNITY_CREATION_MODE." });
const PutBody = t.Object({ registration_mode: t.Optional(RegistrationField), community_creation_mode: t.Optional(CommunityField) });
const Form = t.Object({
  registration_mode: t.Optional(t.Union([...REGISTRATION_MODES.map((m) => t.Literal(m)), t.Literal("default")])),
  community_creation_mode: t.Optional(t.Union([...COMMUNITY_CREATION_MODES.map((m) => t.Literal(m)), t.Literal("default")])),
});
const fromForm = <T extends string>(v: T | "default" | undefined): T | null | undefined => (v === undefined ? undefined : v === "default" ? null : v);

export function serverSettingsRoutes(deps: AppDeps) {
  const render = async (actor: Actor, saved?: string) =>
    page(
      <AccountShell assets={deps.assets.page()} user={shellUserOf(actor)} title="Settings" current="settings" flash={saved ? "Saved: in effect now." : undefined} description="How this instance is configured." banner={await announcementBanner(deps, actor.userId)}>
        <SettingsPage runtime={await readRuntimeSettings(deps)} config={redactedConfig(deps.config)} />
      </AccountShell>,
    );
  return new Elysia({ name: "server-settings" })
    .use(authGuard(deps))
    .get("/api/admin/settings", async () => ({ runtime: runtimeJson(await readRuntimeSettings(deps)), config: redactedConfig(deps.config) }), { admin: "server_settings" })
    .put(
      "/api/admin/settings",
      async ({ actor, body, request }) =>
        ({ runtime: runtimeJson(await setRuntimeSettings(deps, actor, { registrationMode: body.registration_mode as RegistrationMode | null | undefined, communityCreationMode: body.community_creation_mode as CommunityCreationMode | null | undefined }, requestMeta(request))) }),
      { admin: "server_settings", body: PutBody },
    )
    .get("/admin/settings", ({ actor, query }) => render(actor, query.saved), { admin: "server_settings", query: queryOf({ saved: text(32) }) })
    .post(
      "/admin/settings",
      async ({ actor, body, request }) => {
        await setRuntimeSettings(deps, actor, { registrationMode: fromForm<RegistrationMode>(body.registration_mode), communityCreationMode: fromForm<CommunityCreationMode>(body.community_creation_mode) }, requestMeta(request));
        return redirect(request, "/admin/settings?saved=1");
      },
      { admin: "server_settings", body: Form },
    );
}
