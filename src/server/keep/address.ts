/**
 * Which IP addresses the proxy may fetch from: only public unicast ones. Everything an attacker could
 * aim a result URL at inside the network (loopback, private, link-local, CGNAT, multicast, unspecified,
 * reserved), and every IPv6 form that embeds such an IPv4 address (mapped, compatible, translated,
 * NAT64, 6to4), is refused. Pure code, no Node API: the same answer on every runtime.
 */

// [first address, prefix length] of each IPv4 block that is not the public internet.
const BLOCKED_V4: readonly [string, number][] = [
  ['0.0.0.0', 8], // "this network", 0.0.0.0 unspecified
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // CGNAT (shared address space)
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local (cloud metadata lives at 169.254.169.254)
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, 255.255.255.255 broadcast
];

/** An IPv4 address in dotted form as a 32-bit number, or `undefined` when it is not one. */
function parseV4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    // Strictly decimal: resolvers answer in this form, and URL parsing has already normalised hex and octal.
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

const V4_BLOCKS = BLOCKED_V4.map(([first, bits]) => {
  const size = 2 ** (32 - bits);
  const start = parseV4(first)!;
  return [start, start + size] as const;
});

const isPublicV4 = (value: number) => !V4_BLOCKS.some(([start, end]) => value >= start && value < end);

/** An IPv6 address as eight 16-bit groups, or `undefined` when it is not one (a zone id is not). */
function parseV6(text: string): number[] | undefined {
  if (!/^[\da-f:.]+$/i.test(text)) return undefined;
  let tail: number[] = [];
  let head = text;
  // A trailing dotted IPv4 part (`::ffff:127.0.0.1`) is two groups.
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const v4 = parseV4(dotted[1]!);
    if (v4 === undefined) return undefined;
    tail = [v4 >>> 16, v4 & 0xffff];
    head = text.slice(0, dotted.index + 1);
    // `::1.2.3.4` leaves `::`, `64:ff9b::1.2.3.4` leaves `64:ff9b::`, `1:2:3:4:5:6:1.2.3.4` leaves `1:…:6:`.
    if (!head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string) => (half === '' ? [] : half.split(':'));
  const left = groups(halves[0]!);
  const right = halves.length === 2 ? groups(halves[1]!) : [];
  const count = left.length + right.length + tail.length;
  if (halves.length === 1 ? count !== 8 : count > 7) return undefined;
  const parsed: number[] = [];
  for (const group of [...left, ...Array(8 - count).fill('0'), ...right]) {
    if (!/^[\da-f]{1,4}$/i.test(group)) return undefined;
    parsed.push(Number.parseInt(group, 16));
  }
  return [...parsed, ...tail];
}

/** The IPv4 address in groups 6–7 (or 1–2 for 6to4) as a number. */
const embedded = (groups: number[], at: number) => groups[at]! * 65536 + groups[at + 1]!;

function isPublicV6(g: number[]): boolean {
  const zeros = (from: number, to: number) => g.slice(from, to).every((group) => group === 0);
  // ::/96 (unspecified, loopback, IPv4-compatible), ::ffff:0:0/96 (mapped), ::ffff:0:0:0/96 (translated),
  // 64:ff9b::/96 (NAT64): the IPv4 address inside decides.
  if (zeros(0, 5) && (g[5] === 0 || g[5] === 0xffff)) return isPublicV4(embedded(g, 6));
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return isPublicV4(embedded(g, 6));
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return isPublicV4(embedded(g, 6));
  // 6to4 carries its IPv4 address right after the prefix.
  if (g[0] === 0x2002) return isPublicV4(embedded(g, 1));
  // Only global unicast (2000::/3) is public; inside it, Teredo (2001::/32, an obfuscated IPv4 address),
  // ORCHID and other IETF blocks (2001::/23) and documentation (2001:db8::/32) are not.
  if ((g[0]! & 0xe000) !== 0x2000) return false;
  if (g[0] === 0x2001 && (g[1]! < 0x200 || g[1] === 0xdb8)) return false;
  // 3fff::/20: documentation (RFC 9637).
  if (g[0] === 0x3fff && g[1]! < 0x1000) return false;
  return true;
}

/**
 * `true` when `address` (an IPv4 or IPv6 literal, with or without the brackets of a URL host) is a
 * public unicast address the proxy may connect to; `false` for anything else, including text that is not
 * an address at all.
 */
export function isPublicAddress(address: string): boolean {
  const text = address.replace(/^\[(.*)\]$/, '$1');
  const v4 = parseV4(text);
  if (v4 !== undefined) return isPublicV4(v4);
  const v6 = parseV6(text);
  return v6 !== undefined && isPublicV6(v6);
}

/** `true` when `host` (a URL's hostname) is an IP literal rather than a name to resolve. */
export const isIpLiteral = (host: string): boolean =>
  parseV4(host) !== undefined || host.startsWith('[') || parseV6(host) !== undefined;
