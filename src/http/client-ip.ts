/**
 * Who is the client? The direct peer, unless the peer is a trusted proxy (TRUSTED_PROXIES,
 * default loopback): then CF-Connecting-IP, else the right-most X-Forwarded-For entry that is not
 * itself a trusted proxy. A client that forges X-Forwarded-For from an untrusted address is
 * keyed by its real address, so it cannot hop between rate-limit buckets.
 */
import { isIP } from "node:net";

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
  return mapped ? mapped[1]! : ip;
}

export function createClientIpResolver(trustedProxies: readonly string[]) {
  const isTrusted = createIpMatcher(trustedProxies);
  return function resolveClientIp(headers: Headers, peerIp: string | undefined): string {
    if (!peerIp) return "unknown";
    const peer = normalise(peerIp);
    if (!isTrusted(peer)) return peer;
    const cf = headers.get("cf-connecting-ip")?.trim();
    if (cf && isIP(cf)) return normalise(cf);
    const chain = (headers.get("x-forwarded-for") ?? "").split(",").map((s) => s.trim()).filter((s) => isIP(s) !== 0);
    for (let i = chain.length - 1; i >= 0; i--) {
      const hop = normalise(chain[i]!);
      if (!isTrusted(hop)) return hop;
    }
    return chain.length > 0 ? normalise(chain[0]!) : peer;
  };
}
