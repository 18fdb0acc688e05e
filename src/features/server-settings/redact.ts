/**
 * The effective configuration as the Settings tab shows it (docs/admin.md "Settings"): every
 * field of Config flattened to `path = value`, secrets redacted. A field is a secret when its
 * name says so (secret, password, token, key, credential: the TOTP key, the setup token, the
 * metrics token, the OIDC client secret, API keys, the VAPID private key, SMTP and TURN secrets,
 * S3 keys, ICE credentials; key *paths* too, out of caution); any URL loses its user info and
 * query (DATABASE_URL, REDIS_URL and the like carry passwords there).
 */
import type { Config } from "../../config.ts";

const SECRET_NAME = /secret|password|passwd|token|key|credential|salt/i;
export const REDACTED = "(set, redacted)";

export type ConfigRow = { name: string; value: string };

function redactUrl(value: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return value;
  try {
    const url = new URL(value);
    if (url.username || url.password) {
      url.username = "redacted";
      url.password = "";
    }
    if (url.search) url.search = "?redacted";
    url.hash = "";
    return url.toString();
  } catch {
    return REDACTED; // an unparsable URL-looking value could hold anything
  }
}

export function redactedConfig(config: Config): ConfigRow[] {
  const rows: ConfigRow[] = [];
  const walk = (value: unknown, path: string, name: string) => {
    if (value === undefined || value === null) return void rows.push({ name: path, value: "(not set)" });
    if (SECRET_NAME.test(name) && !/^(publicKey|publicKeyPath)$/.test(name)) return void rows.push({ name: path, value: value === "" ? "(empty)" : REDACTED });
    if (Array.isArray(value)) {
      if (value.length === 0) return void rows.push({ name: path, value: "(none)" });
      value.forEach((item, i) => walk(item, `${path}[${i}]`, name));
      return;
    }
    if (typeof value === "object") {
      for (const [key, inner] of Object.entries(value as Record<string, unknown>)) walk(inner, path ? `${path}.${key}` : key, key);
      return;
    }
    rows.push({ name: path, value: typeof value === "string" ? redactUrl(value) : String(value) });
  };
  walk(config, "", "");
  return rows;
}
