/**
 * Which IP addresses the link-preview fetcher may connect to (docs/integrations.md "Link
 * previews"): public unicast only. Refused: private (10/8, 172.16/12, 192.168/16, fc00::/7),
 * loopback, link-local (169.254/16 — cloud metadata — and fe80::/10), CGNAT (100.64/10),
 * "this network" (0/8), benchmarking, documentation and other reserved ranges, multicast and
 * broadcast, and every IPv6 form that embeds an IPv4 address (IPv4-mapped ::ffff:0:0/96,
 * IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32), so no IPv4 rule
 * is escaped through IPv6. Only canonical notations are accepted: an address string that is not
 * plain dotted-quad IPv4 or IPv6 (decimal 2130706433, octal 0177.0.0.1, hex 0x7f.1, short 127.1)
 * is refused here; URLs in those notations are normalised by the URL parser before this check.
 */
import { isIPv4, isIPv6 } from "node:net";

const V4_BLOCKED: readonly [string, number][] = [
  ["0.0.0.0", 8], // this network
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // CGNAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata at 169.254.169.254)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, and 255.255.255.255 broadcast
];

function v4ToInt(ip: string): number {
  return ip.split(".").reduce((n, part) => (n << 8) + Number(part), 0) >>> 0;
}

/** Strict dotted-quad: four decimal parts 0–255 without leading zeros (no octal, hex or short forms). */
export function isCanonicalIPv4(ip: string): boolean {
  return isIPv4(ip) && ip.split(".").every((p) => p === "0" || /^[1-9][0-9]{0,2}$/.test(p));
}

function v4Blocked(ip: string): boolean {
  const n = v4ToInt(ip);
  return V4_BLOCKED.some(([base, bits]) => (n >>> (32 - bits)) === (v4ToInt(base) >>> (32 - bits)));
}

/** The 16 bytes of an IPv6 address (validated by isIPv6 first; zone ids are refused by the caller). */
function v6Bytes(ip: string): Uint8Array {
  let text = ip;
  const out = new Uint8Array(16);
  // An embedded dotted IPv4 tail becomes two hex groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const n = v4ToInt(v4[1]!);
    text = text.slice(0, v4.index) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const h = head ? head.split(":").filter((x) => x !== "") : [];
  const t = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

function v6Blocked(b: Uint8Array): boolean {
  const zeroUpTo = (n: number) => b.subarray(0, n).every((x) => x === 0);
  // ::/96 (unspecified, loopback, IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped).
  if (zeroUpTo(10) && ((b[10] === 0 && b[11] === 0) || (b[10] === 0xff && b[11] === 0xff))) return true;
  if ((b[0]! & 0xe0) !== 0x20) return true; // only global unicast 2000::/3 (fc00::/7, fe80::/10, ff00::/8… out)
  const w0 = (b[0]! << 8) | b[1]!;
  const w1 = (b[2]! << 8) | b[3]!;
  if (w0 === 0x2001 && w1 < 0x0200) return true; // 2001::/23 IETF assignments (Teredo 2001::/32 included)
  if (w0 === 0x2001 && w1 === 0x0db8) return true; // documentation
  if (w0 === 0x2002) return true; // 6to4: embeds an IPv4 address
  return false;
}

/** The default policy: may the fetcher connect to this address? */
export function isPublicAddress(ip: string): boolean {
  if (isCanonicalIPv4(ip)) return !v4Blocked(ip);
  if (isIPv4(ip)) return false; // a non-canonical IPv4 spelling
  if (!isIPv6(ip) || ip.includes("%")) return false; // not an address, or a zone id
  const bytes = v6Bytes(ip);
  // NAT64 64:ff9b::/96 embeds IPv4 too (outside 2000::/3, refused below anyway).
  return !v6Blocked(bytes);
}
