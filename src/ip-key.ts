import { invalid } from './validate.js';

/**
 * The IPv6 prefix length that keys an IPv6 client by default: a /56, the block a home or
 * office connection is commonly given (RFC 6177), as express-rate-limit does. A single
 * host can use every address of its /64, so a smaller prefix than 64 is never useful.
 */
export const DEFAULT_IPV6_SUBNET = 56;

/** Returns `value` when it is a whole number from 32 to 64 or `false`; throws a TypeError or RangeError otherwise. */
export function checkIpv6Subnet(value: unknown): number | false {
  if (value === false || (Number.isInteger(value) && (value as number) >= 32 && (value as number) <= 64)) return value as number | false;
  throw invalid('ipv6Subnet', 'a whole number from 32 to 64, or false', value, true);
}

/** Returns the eight 16-bit groups of an IPv6 address, or undefined when it is not one. */
function parseIpv6(address: string): number[] | undefined {
  let text = address;
  const groups: number[] = [];
  // An IPv4 address in the last 32 bits (::ffff:192.0.2.1).
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  let tail: number[] = [];
  if (dotted) {
    const bytes = dotted.slice(2).map(Number);
    if (bytes.some((byte) => byte > 255)) return undefined;
    tail = [(bytes[0]! << 8) | bytes[1]!, (bytes[2]! << 8) | bytes[3]!];
    text = dotted[1]!.endsWith('::') ? dotted[1]! : dotted[1]!.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const read = (half: string): number[] | undefined => {
    if (half === '') return [];
    const parts = half.split(':');
    const out: number[] = [];
    for (const part of parts) {
      if (!/^[0-9a-f]{1,4}$/i.test(part)) return undefined;
      out.push(Number.parseInt(part, 16));
    }
    return out;
  };
  const head = read(halves[0]!);
  const rest = halves.length === 2 ? read(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const present = head.length + rest.length + tail.length;
  if (halves.length === 2 ? present > 7 : present !== 8) return undefined;
  groups.push(...head, ...new Array<number>(8 - present).fill(0), ...rest, ...tail);
  return groups;
}

/** Formats eight groups in RFC 5952's canonical form: lower case, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let start = 0; start < 8; ) {
    if (groups[start] !== 0) {
      start++;
      continue;
    }
    let end = start;
    while (end < 8 && groups[end] === 0) end++;
    if (end - start > bestLength) {
      bestStart = start;
      bestLength = end - start;
    }
    start = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/**
 * Returns the rate-limit key of a client address. An IPv4 address is its own key; an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`) keys as the IPv4 address it carries, and
 * the IPv6 loopback `::1` as `127.0.0.1`, so a client on a dual-stack server keys alike
 * over either family. Any other IPv6 address keys by its first `ipv6Subnet` bits, as
 * `2001:db8:1::/56`, so that a client cannot walk around its limit by rotating addresses
 * within its own block. With `ipv6Subnet: false` an IPv6 address keys as itself, in
 * canonical form (RFC 5952). Surrounding spaces, brackets, a port (`[::1]:443`,
 * `192.0.2.1:443`) and a zone (`%eth0`) are ignored. Anything that is not an IP address
 * is returned unchanged.
 * @param address - the client's address, from the socket or a trusted `X-Forwarded-For`.
 * @param ipv6Subnet - the IPv6 prefix length, a whole number from 32 to 64, or `false`. @default 56
 * @example
 * ```ts
 * ipKey('2001:db8:1:2::c7'); // '2001:db8:1::/56'
 * ipKey('::ffff:127.0.0.1'); // '127.0.0.1'
 * ipKey('2001:db8:1:2::c7', false); // '2001:db8:1:2::c7'
 * ```
 */
export function ipKey(address: string, ipv6Subnet: number | false = DEFAULT_IPV6_SUBNET): string {
  let text = address.trim();
  if (!text.includes(':')) return text;
  const ipv4WithPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(text);
  if (ipv4WithPort) return ipv4WithPort[1]!;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    text = text.slice(1, end < 0 ? undefined : end);
  }
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups = parseIpv6(text);
  if (!groups) return address;
  const high = groups[0]! | groups[1]! | groups[2]! | groups[3]! | groups[4]!;
  if (high === 0 && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`;
  }
  if (high === 0 && groups[5] === 0 && groups[6] === 0 && groups[7] === 1) return '127.0.0.1';
  if (ipv6Subnet === false) return formatIpv6(groups);
  const masked = groups.map((group, index) => {
    const bits = Math.min(16, Math.max(0, ipv6Subnet - index * 16));
    return bits === 16 ? group : bits === 0 ? 0 : group & ((0xffff << (16 - bits)) & 0xffff);
  });
  return `${formatIpv6(masked)}/${ipv6Subnet}`;
}
