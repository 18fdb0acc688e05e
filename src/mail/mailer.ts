/**
 * The SMTP side of mail (docs/meetings.md, seeds/001). Email is enabled only when SMTP_HOST and
 * EMAIL_FROM are both set (config.smtp); otherwise nothing is queued and no connection is made.
 *
 * SMTP_TLS=true (the default) means STARTTLS before AUTH: nodemailer's `requireTLS` refuses to go
 * on (and so never sends AUTH or a message) when the server does not offer STARTTLS or the
 * upgrade fails. Port 465 is implicit TLS. SMTP_TLS=false sends in plaintext (`ignoreTLS`): for
 * local catchers such as Mailpit only.
 *
 * The password is SMTP_PASSWORD, else the Docker secret file /run/secrets/smtp_password (its path
 * injectable through deps.mail.secretPath for tests), read when a transport is made.
 */
import { readFileSync } from "node:fs";
import nodemailer from "nodemailer";
import type { AppDeps } from "../deps.ts";

export const SMTP_SECRET_PATH = "/run/secrets/smtp_password";

export type OutgoingMail = {
  to: string;
  subject: string;
  text: string;
  /** An iCalendar invitation: sent as a `text/calendar; method=…` alternative (nodemailer icalEvent). */
  ical?: { method: "REQUEST" | "CANCEL"; content: string };
};

export type MailSender = { send(mail: OutgoingMail): Promise<void>; close(): void };

/** SMTP_PASSWORD, else the secret file's content (trailing newline dropped), else none. */
export function resolveSmtpPassword(deps: AppDeps): string | undefined {
  const smtp = deps.config.smtp;
  if (!smtp) return undefined;
  if (smtp.password) return smtp.password;
  try {
    const value = readFileSync(deps.mail?.secretPath ?? SMTP_SECRET_PATH, "utf8").replace(/\r?\n$/, "");
    return value === "" ? undefined : value;
  } catch {
    return undefined;
  }
}

/** Header values never carry a line break (nodemailer folds them too; this is the second wall). */
export function oneLine(value: string): string {
  return value.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
}

export function createMailSender(deps: AppDeps): MailSender | undefined {
  const smtp = deps.config.smtp;
  if (!smtp) return undefined;
  const password = resolveSmtpPassword(deps);
  const timeout = deps.mail?.timeoutMs ?? 30_000;
  const transport = nodemailer.createTransport({
    host: smtp.host,
    port: smtp.port,
    secure: smtp.tls && smtp.port === 465,
    requireTLS: smtp.tls,
    ignoreTLS: !smtp.tls,
    auth: smtp.username ? { user: smtp.username, pass: password ?? "" } : undefined,
    tls: deps.mail?.tls ? { ...deps.mail.tls } : undefined,
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return {
    async send(mail) {
      await transport.sendMail({
        from: { name: oneLine(smtp.fromName), address: smtp.from },
        to: mail.to,
        subject: oneLine(mail.subject),
        text: mail.text,
        icalEvent: mail.ical ? { method: mail.ical.method, filename: "invite.ics", content: mail.ical.content } : undefined,
        disableFileAccess: true,
        disableUrlAccess: true,
      });
    },
    close: () => transport.close(),
  };
}
