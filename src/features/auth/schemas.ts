/** Request bodies of the JSON API (Elysia t / TypeBox). Bounds here stop oversized input early;
 * the domain rules (username format, password policy…) live in the services, for both faces. */
import { t } from "elysia";
import { int, queryOf, Uuid } from "../../http/input-schemas.ts";

const text = (max: number) => t.String({ maxLength: max });

export const RegisterBody = t.Object({
  username: text(64),
  email: t.Optional(text(254)),
  password: text(1024),
  display_name: t.Optional(text(256)),
  invite_code: t.Optional(text(64)),
  setup_token: t.Optional(text(256)),
});

export const LoginBody = t.Object({ username: text(256), password: text(1024), totp_code: t.Optional(text(32)) });
export const RefreshBody = t.Object({ refresh_token: text(256) });
export const RecoverBody = t.Object({ username: text(256), recovery_code: text(64), new_password: text(1024) });
export const PasswordBody = t.Object({ current_password: text(1024), new_password: text(1024) });
export const PasswordOnlyBody = t.Object({ password: text(1024) });
export const OptionalPasswordBody = t.Optional(t.Object({ password: t.Optional(text(1024)) }));
export const ProfileBody = t.Object({
  display_name: t.Optional(text(256)),
  custom_status: t.Optional(t.Union([text(512), t.Null()])),
  bio: t.Optional(t.Union([text(2000), t.Null()])),
  pronouns: t.Optional(t.Union([text(256), t.Null()])),
  allow_dms_from_anyone: t.Optional(t.Boolean()),
});
export const CodeBody = t.Object({ code: text(32) });
export const InviteBody = t.Object({
  max_uses: t.Optional(t.Union([t.Integer({ minimum: 1, maximum: 100000 }), t.Null()])),
  expires_in_hours: t.Optional(t.Union([t.Integer({ minimum: 1, maximum: 8760 }), t.Null()])),
});
export const IdParams = t.Object({ id: text(64) });
