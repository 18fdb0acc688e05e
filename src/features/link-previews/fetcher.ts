/**
 * The SSRF-safe fetcher of link previews (issue 18 §3, docs/integrations.md "Link previews").
 * For each hop (the URL, then at most MAX_REDIRECTS redirects):
 *
 *   1. http or https only, no user:password, an allowed port (80, 443, 8080, 8443 by default);
 *      the URL parser has already turned odd IPv4 notations (2130706433, 0177.0.0.1, 0x7f.1,
 *      127.1) into dotted quads, so they meet the address check as what they are;
 *   2. the host is resolved FIRST (the injected resolver, else the system's), and every address
 *      it resolves to must pass the policy (addresses.ts isPublicAddress unless injected);
 *   3. the request goes to that checked address itself (the URL's host replaced by the IP, the
 *      Host header and the TLS server name kept), so a second DNS answer — a rebinding between
 *      check and connect — is never asked for: the IP is pinned;
 *   4. redirects are not followed by fetch: each Location is a new hop, checked again;
 *   5. no cookies are sent (none are stored), one deadline covers the whole fetch, the body is
 *      read up to maxBytes and cut there (the head of a page holds its title and og: tags);
 *      only text/html (or XHTML) is parsed.
 */
import { isIP } from "node:net";
import { AppError } from "../../errors.ts";
import { isPublicAddress } from "./addresses.ts";

export type Resolver = (hostname: string) => Promise<string[]>;

export type FetchPolicy = {
  /** Addresses of a name. Tests inject one; the default is the system resolver (Bun.dns). */
  resolve?: Resolver;
  /** May the fetcher connect to this IP? Default: public unicast only (addresses.ts). */
  allowAddress?: (ip: string) => boolean;
  allowPort?: (port: number) => boolean;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
};

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BYTES = 512 * 1024;
export const MAX_REDIRECTS = 3;
const DEFAULT_PORTS = new Set([80, 443, 8080, 8443]);
const USER_AGENT = "HearthLinkPreview/1.0 (link previews made by the sender)";

export type FetchedPage = { url: string; html: string; truncated: boolean };

export function refused(message: string): AppError {
  return new AppError("LINK_PREVIEW_REFUSED", 422, message);
}
export function unavailable(message: string): AppError {
  return new AppError("LINK_PREVIEW_UNAVAILABLE", 422, message);
}

async function systemResolve(hostname: string): Promise<string[]> {
  const answers = await Bun.dns.lookup(hostname, {});
  return answers.map((a) => a.address);
}

function portOf(url: URL): number {
  return url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
}

/** Checks one hop's URL and resolves its host to one checked address. */
async function checkHop(url: URL, policy: FetchPolicy): Promise<string> {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw refused("Only http and https links get previews.");
  if (url.username || url.password) throw refused("Links with a user name or password get no preview.");
  const port = portOf(url);
  if (!(policy.allowPort ?? ((p: number) => DEFAULT_PORTS.has(p)))(port)) throw refused("That port is not allowed for previews.");
  const host = url.hostname.replace(/^\[|\]$/g, "");
  const lower = host.toLowerCase();
  if (lower === "localhost" || lower.endsWith(".localhost")) throw refused("That address is not reachable for previews.");
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = await (policy.resolve ?? systemResolve)(host);
    } catch {
      throw unavailable("That name does not resolve.");
    }
  }
  const allow = policy.allowAddress ?? isPublicAddress;
  // Every answer must pass: a name with one private address among public ones is refused whole.
  if (addresses.length === 0 || addresses.some((a) => !allow(a))) throw refused("That address is not reachable for previews.");
  return addresses[0]!;
}

/**
 * `GET` of `input` through the checks above, hop by hop (each redirect checked again): the final
 * answer (not a redirect), its URL, and the response still unread. The caller owns the `signal`
 * (its deadline) and must read or cancel the body. Also used by the GIF media proxy
 * (src/features/gifs), which checks its hosts before calling this.
 */
export async function openChecked(input: string, policy: FetchPolicy, signal: AbortSignal, accept: string): Promise<{ url: URL; response: Response }> {
  const maxRedirects = policy.maxRedirects ?? MAX_REDIRECTS;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    throw new AppError("INVALID_URL", 400, "That is not a link.", { fields: { url: "Must be an http or https URL." } });
  }
  for (let hop = 0; ; hop++) {
    const ip = await checkHop(url, policy);
    const target = new URL(url.href);
    target.hostname = isIP(ip) === 6 ? `[${ip}]` : ip;
    target.hash = "";
    const host = url.hostname.replace(/^\[|\]$/g, "");
    let response: Response;
    try {
      response = await fetch(target.href, {
        method: "GET",
        redirect: "manual",
        signal,
        headers: { host: url.host, accept, "user-agent": USER_AGENT, "accept-language": "en" },
        // The certificate is checked against the name, not the pinned IP.
        ...(url.protocol === "https:" && !isIP(host) ? { tls: { serverName: host } } : {}),
      });
    } catch {
      throw signal.aborted ? unavailable("The page took too long to answer.") : unavailable("The page could not be reached.");
    }
    if (response.status >= 300 && response.status < 400 && response.headers.get("location")) {
      await response.body?.cancel().catch(() => {});
      if (hop >= maxRedirects) throw unavailable("Too many redirects.");
      try {
        url = new URL(response.headers.get("location")!, url);
      } catch {
        throw unavailable("The page redirected to something that is not a link.");
      }
      continue;
    }
    return { url, response };
  }
}

/** `GET` of a page through the checks above; the HTML (cut at maxBytes) and the final URL. */
export async function fetchPreviewPage(input: string, policy: FetchPolicy = {}): Promise<FetchedPage> {
  const timeoutMs = policy.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = policy.maxBytes ?? DEFAULT_MAX_BYTES;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const { url, response } = await openChecked(input, policy, controller.signal, "text/html,application/xhtml+xml;q=0.9");
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw unavailable(`The page answered ${response.status}.`);
    }
    const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
    if (type !== "text/html" && type !== "application/xhtml+xml") {
      await response.body?.cancel().catch(() => {});
      throw unavailable("Only web pages (HTML) get previews.");
    }
    const { bytes, truncated } = await readCapped(response, maxBytes, controller.signal);
    return { url: url.href, html: new TextDecoder().decode(bytes), truncated };
  } finally {
    clearTimeout(timer);
  }
}

/** The body up to `max` bytes; the stream is cancelled there (the rest is never read). */
export async function readCapped(response: Response, max: number, signal: AbortSignal): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  const reader = response.body?.getReader();
  if (!reader) return { bytes: new Uint8Array(), truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  try {
    for (;;) {
      if (signal.aborted) throw unavailable("The page took too long to answer.");
      const { done, value } = await reader.read();
      if (done) break;
      const room = max - size;
      if (value.length >= room) {
        chunks.push(value.subarray(0, room));
        size += room;
        truncated = true;
        break;
      }
      chunks.push(value);
      size += value.length;
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw unavailable("The page took too long to answer.");
  } finally {
    await reader.cancel().catch(() => {});
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return { bytes: out, truncated };
}
