/**
 * JSON-lines logger. One object per line on stdout: level, time, msg, plus context fields.
 * Child loggers carry request/connection context. Never pass passwords, tokens, keys or
 * ciphertext as fields: `redact` below is a last line of defence, not the policy.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /pass(word)?|secret|token|authorization|cookie|private|ciphertext|totp|recovery/i;

/**
 * Bearer secrets that travel inside URLs: whoever reads the log could use them. Each rule keeps
 * the route's shape and replaces the secret part, so "/invite/ABCD-EFGH/accept" is logged as
 * "/invite/[redacted]/accept". Extend this list when a route takes a secret in its path.
 */
const SECRET_IN_URL: readonly (readonly [RegExp, string])[] = [
  // Community invite links (pages and API): the code alone lets anyone join.
  [/(\/invite\/)[^/?#\s"']+/gi, "$1[redacted]"],
  [/(\/community-invites\/)[^/?#\s"']+/gi, "$1[redacted]"],
  // Incoming webhooks (docs/integrations.md): the token in the path is the credential.
  [/(\/webhook\/)[^/?#\s"']+/gi, "$1[redacted]"],
  // One-time links: instance setup, password reset, email verification, magic sign-in.
  [/(\/(?:setup|reset|reset-password|password-reset|verify|verify-email|magic)\/)[^/?#\s"']+/gi, "$1[redacted]"],
  // Secrets in query strings (setup links, invite links, OAuth callbacks, tokens).
  [/([?&](?:setup_token|token|invite|invite_code|code|state|access_token|refresh_token|pending_token|key)=)[^&#\s"']*/gi, "$1[redacted]"],
];

/** Fields that carry request URLs or free error text: their values go through SECRET_IN_URL. */
const URL_KEY = /^(path|url|uri|href|location|referr?er|next|route|target|error|message|reason)$/i;

export function redactUrlSecrets(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_IN_URL) out = out.replace(pattern, replacement);
  return out;
}

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogSink = (line: string) => void;

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key)) out[key] = "[redacted]";
    else if (value instanceof Error) out[key] = { name: value.name, message: redactUrlSecrets(value.message), stack: value.stack === undefined ? undefined : redactUrlSecrets(value.stack) };
    else if (typeof value === "string" && URL_KEY.test(key)) out[key] = redactUrlSecrets(value);
    else out[key] = value;
  }
  return out;
}

export function createLogger(level: LogLevel = "info", context: LogFields = {}, sink: LogSink = (l) => process.stdout.write(l + "\n")): Logger {
  const min = RANK[level];
  const write = (lvl: LogLevel, msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    sink(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...context, ...(fields ? redact(fields) : {}) }));
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger(level, { ...context, ...redact(fields) }, sink),
  };
}

/** A logger that drops everything (tests that do not inspect logs). */
export const silentLogger: Logger = createLogger("error", {}, () => {});
