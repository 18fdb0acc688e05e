/**
 * Who is the client? The direct peer, unless the peer is a trusted proxy (TRUSTED_PROXIES,
 * default loopback): then the one header CLIENT_IP_HEADER names (default X-Forwarded-For, its
 * right-most untrusted hop). A client that forges headers from an untrusted address is keyed by
 * its real address, and through a proxy only the header the proxy overwrites is read, so it
 * cannot hop between rate-limit buckets.
 */
import { isIP } from "node:net";
import type { ClientIpHeader } from "../config.ts";

type Range = { family: 4 | 6; bits: bigint; mask: bigint };

function ipToBigInt(ip: string): { family: 4 | 6; value: bigint } | undefined {
  const family = isIP(ip);
  if (family === 4) {
    return { family: 4, value: ip.split(".").reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n) };
  }
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
    if (mapped) return ipToBigInt(mapped[1]!);
    const [head = "", tail = ""] = ip.split("::");
    const headParts = head ? head.split(":") : [];
    const tailParts = tail ? tail.split(":") : [];
    const missing = ip.includes("::") ? 8 - headParts.length - tailParts.length : 0;
    const parts = [...headParts, ...Array(missing).fill("0"), ...tailParts];
    return { family: 6, value: parts.reduce((acc, part) => (acc << 16n) | BigInt(parseInt(part || "0", 16)), 0n) };
  }
  return undefined;
}

function parseRange(entry: string): Range | undefined {
  const [ip = "", bitsText] = entry.split("/");
  const parsed = ipToBigInt(ip);
  if (!parsed) return undefined;
  const width = parsed.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  const mask = bits === 0 ? 0n : ((1n << BigInt(bits)) - 1n) << BigInt(width - bits);
  return { family: parsed.family, bits: parsed.value & mask, mask };
}

export function createIpMatcher(entries: readonly string[]): (ip: string) => boolean {
  const ranges = entries.map(parseRange).filter((r): r is Range => r !== undefined);
  return (ip) => {
    const parsed = ipToBigInt(ip);
    if (!parsed) return false;
    return ranges.some((r) => r.family === parsed.family && (parsed.value & r.mask) === r.bits);
  };
}

/** Normalises `::ffff:1.2.3.4` to `1.2.3.4` so one client has one key. */
function normalise(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return mapped ? mapped[1]!.toLowerCase() : ip.toLowerCase();
}

/** One forwarded address: a bare IP, or the `1.2.3.4:port` / `[v6]:port` forms some proxies write. */
function parseHop(entry: string): string | undefined {
  const text = entry.trim();
  if (isIP(text)) return normalise(text);
  const bracketed = /^\[([0-9a-fA-F:.]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed && isIP(bracketed[1]!) === 6) return normalise(bracketed[1]!);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(text);
  if (withPort && isIP(withPort[1]!) === 4) return withPort[1]!;
  return undefined;
}

/**
 * The resolver every reader of a client IP goes through (rate limits, sessions, audit, the WS
 * upgrade: app.ts stores its answer per request, features read it with clientIpOf).
 *
 * The direct peer is the client unless it is a trusted proxy. Behind a trusted proxy exactly ONE
 * header is read, the configured one; all others are ignored, because a proxy passes headers it
 * does not set straight through from the client (nginx and Caddy forward a client's own
 * CF-Connecting-IP or X-Real-IP untouched, so believing "whichever is present" let any client
 * pick its address, escape per-IP limits and forge the IP stored for sessions and audit rows).
 * - X-Forwarded-For: the right-most hop that is not itself a trusted proxy. Entries left of it
 *   came from the client and are never read. If an entry on the way is not an IP address, the
 *   chain cannot be followed further and the last trusted hop (the peer, if none) is the answer.
 * - X-Real-IP, CF-Connecting-IP: a single address written by the proxy; anything else (absent,
 *   garbage, two values) is not believed and the peer is the answer.
 * - none: always the peer.
 */
export function createClientIpResolver(trustedProxies: readonly string[], header: ClientIpHeader = "x-forwarded-for") {
  const isTrusted = createIpMatcher(trustedProxies);
  return function resolveClientIp(headers: Headers, peerIp: string | undefined): string {
    if (!peerIp) return "unknown";
    const peer = normalise(peerIp);
    if (header === "none" || !isTrusted(peer)) return peer;
    const value = headers.get(header);
    if (value === null) return peer;
    if (header !== "x-forwarded-for") return parseHop(value) ?? peer;
    let nearest = peer;
    const hops = value.split(",");
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = parseHop(hops[i]!);
      if (hop === undefined) return nearest;
      if (!isTrusted(hop)) return hop;
      nearest = hop;
    }
    return nearest;
  };
}

/**
 * The key per-IP limits count under: an IPv4 address as it is, an IPv6 address by its /64. One
 * subscriber usually holds a whole /64 and may pick any address in it, so keying by the full
 * address would hand a client 2^64 rate-limit buckets.
 */
export function limitSubjectOf(ip: string): string {
  const parsed = ipToBigInt(ip);
  if (!parsed || parsed.family === 4) return ip;
  const prefix = parsed.value >> 64n;
  const groups = [48n, 32n, 16n, 0n].map((shift) => ((prefix >> shift) & 0xffffn).toString(16));
  return `${groups.join(":")}::/64`;
}
