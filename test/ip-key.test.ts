import { describe, expect, it } from 'vitest';
import { DEFAULT_IPV6_SUBNET, checkIpv6Subnet, ipKey } from '../src/ip-key.js';

describe('ipKey', () => {
  it.each([
    ['192.0.2.1', '192.0.2.1'],
    [' 192.0.2.1 ', '192.0.2.1'],
    ['192.0.2.1:8080', '192.0.2.1'],
  ])('keys the IPv4 address %j as itself: %j', (address, key) => {
    expect(ipKey(address)).toBe(key);
  });

  it.each([
    ['::ffff:192.0.2.1', '192.0.2.1'],
    ['::FFFF:192.0.2.1', '192.0.2.1'],
    ['::ffff:c000:201', '192.0.2.1'],
    ['0:0:0:0:0:ffff:192.0.2.1', '192.0.2.1'],
    ['[::ffff:127.0.0.1]:443', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
  ])('keys the IPv4-mapped address %j as the IPv4 address %j', (address, key) => {
    expect(ipKey(address)).toBe(key);
    expect(ipKey(address, false)).toBe(key);
  });

  it.each([['::1'], ['0:0:0:0:0:0:0:1'], ['[::1]'], ['[::1]:3000']])('keys the loopback %j as 127.0.0.1, the same host over IPv4', (address) => {
    expect(ipKey(address)).toBe('127.0.0.1');
    expect(ipKey(address, false)).toBe('127.0.0.1');
  });

  it.each([
    // address, /32, /56, /64
    ['2001:db8:1:2::c7', '2001:db8::/32', '2001:db8:1::/56', '2001:db8:1:2::/64'],
    ['2001:db8:1:2ff::1', '2001:db8::/32', '2001:db8:1:200::/56', '2001:db8:1:2ff::/64'],
    ['2001:DB8:ABCD:12FF:FFFF:FFFF:FFFF:FFFF', '2001:db8::/32', '2001:db8:abcd:1200::/56', '2001:db8:abcd:12ff::/64'],
    ['fe80::1%eth0', 'fe80::/32', 'fe80::/56', 'fe80::/64'],
    ['[2001:db8::1]:443', '2001:db8::/32', '2001:db8::/56', '2001:db8::/64'],
    ['[2001:db8::1', '2001:db8::/32', '2001:db8::/56', '2001:db8::/64'], // an unclosed bracket
    ['::2', '::/32', '::/56', '::/64'],
  ])('keys the IPv6 address %j by its prefix: %j, %j, %j', (address, by32, by56, by64) => {
    expect([ipKey(address, 32), ipKey(address, 56), ipKey(address, 64)]).toEqual([by32, by56, by64]);
  });

  it('keys every address of one /56 alike by default, and two /56 blocks apart', () => {
    expect(DEFAULT_IPV6_SUBNET).toBe(56);
    const keys = new Set<string>();
    for (let host = 0; host < 200; host++) keys.add(ipKey(`2001:db8:1:${(host % 256).toString(16)}::${host.toString(16)}`));
    expect([...keys]).toEqual(['2001:db8:1::/56']);
    expect(ipKey('2001:db8:1:100::1')).toBe('2001:db8:1:100::/56');
  });

  it.each([
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not shortened
    ['2001:db8::1:0:0:0:1', '2001:db8:0:1::1'], // the longest run
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::', '::'],
    ['::192.0.2.1', '::c000:201'],
    ['1:2:3:4:5:6:192.0.2.1', '1:2:3:4:5:6:c000:201'],
    ['FE80::ABCD%25en0', 'fe80::abcd'],
  ])('keys %j in canonical form %j with ipv6Subnet false', (address, key) => {
    expect(ipKey(address, false)).toBe(key);
  });

  it.each([
    ['unknown'],
    [''],
    ['not:an:address'],
    ['1::2::3'],
    [':::'],
    ['1:2:3:4:5:6:7:8:9'],
    ['1:2:3'],
    ['12345::1'],
    ['::ffff:300.0.2.1'],
    ['::ffff:1234.0.2.1'],
    ['1:2:3:4:5:6:7::8'],
  ])('returns %j, which is no IP address, unchanged', (address) => {
    expect(ipKey(address)).toBe(address);
  });
});

describe('checkIpv6Subnet', () => {
  it.each([[32], [48], [56], [64], [false]])('accepts %j', (value) => {
    expect(checkIpv6Subnet(value)).toBe(value);
  });

  it.each([
    [31, RangeError],
    [65, RangeError],
    [56.5, RangeError],
    [Number.NaN, RangeError],
    [true, TypeError],
    ['56', TypeError],
    [undefined, TypeError],
  ])('rejects %j with a %o naming ipv6Subnet', (value, ErrorType) => {
    expect(() => checkIpv6Subnet(value)).toThrow(ErrorType);
    expect(() => checkIpv6Subnet(value)).toThrow('Expected `ipv6Subnet` to be a whole number from 32 to 64, or false');
  });
});
