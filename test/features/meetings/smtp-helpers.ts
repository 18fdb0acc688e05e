/**
 * A real SMTP server on loopback (the smtp-server package) for the mail tests: STARTTLS with a
 * self-signed certificate made here by the openssl CLI, AUTH PLAIN/LOGIN against one password,
 * and a record of every connection, AUTH attempt (and whether it came after STARTTLS) and
 * message (envelope and raw source).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SMTPServer } from "smtp-server";

export type Received = { from: string; to: string[]; raw: string };
export type SmtpRecorder = {
  port: number;
  connections: number;
  auths: { user: string; secure: boolean; ok: boolean }[];
  messages: Received[];
  close(): Promise<void>;
};

export function haveOpenssl(): boolean {
  return Bun.which("openssl") !== null;
}

export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), "hearth-smtp-cert-"));
  try {
    const run = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-days", "1", "-subj", "/CN=localhost"], { stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`openssl failed: ${run.stderr.toString()}`);
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function startSmtp(opts: { user: string; password: string; starttls: boolean; tls?: { key: string; cert: string } }): Promise<SmtpRecorder> {
  const rec: Omit<SmtpRecorder, "port" | "close"> = { connections: 0, auths: [], messages: [] };
  const server = new SMTPServer({
    secure: false,
    key: opts.tls?.key,
    cert: opts.tls?.cert,
    disabledCommands: opts.starttls ? [] : ["STARTTLS"],
    authMethods: ["PLAIN", "LOGIN"],
    // The server itself would refuse AUTH before STARTTLS; allowing it lets the tests see
    // whether the client tried (it must not).
    allowInsecureAuth: true,
    logger: false,
    onConnect(_session, callback) {
      rec.connections++;
      callback();
    },
    onAuth(auth, session, callback) {
      const ok = auth.username === opts.user && auth.password === opts.password;
      rec.auths.push({ user: auth.username ?? "", secure: session.secure, ok });
      if (!ok) return callback(new Error("Invalid username or password"));
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        rec.messages.push({ from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "", to: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString("utf8") });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const port = (server.server.address() as { port: number }).port;
  return Object.assign(rec, { port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }) as SmtpRecorder;
}
