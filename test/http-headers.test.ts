import { describe, expect, it } from 'vitest';
import { clientAddress } from '../src/http-client-address.js';
import { mergedHeader, policyString } from '../src/http-headers.js';

describe('mergedHeader', () => {
  it.each([
    ['RateLimit', undefined, '"b";r=1', '"b";r=1'],
    ['RateLimit', '"a";r=0', '"b";r=1', '"a";r=0, "b";r=1'],
    ['ratelimit-policy', ['"a";q=1', '"c";q=3'], '"b";q=2', '"a";q=1, "c";q=3, "b";q=2'],
    ['Retry-After', '120', '20', '120'],
    ['Retry-After', 5, '20', '20'],
    ['Retry-After', 'Wed, 21 Oct 2026 07:28:00 GMT', '20', '20'],
    ['X-RateLimit-Remaining', '7', '3', '3'],
    ['RateLimit', '', '"b";r=1', '"b";r=1'],
    ['RateLimit', null, '"b";r=1', '"b";r=1'],
  ])('%s: %j and %j give %j', (name, existing, value, merged) => {
    expect(mergedHeader(name, existing, value)).toBe(merged);
  });
});

describe('policyString', () => {
  it.each([
    ['default', '"default"'],
    ['a "quoted" \\ name', '"a \\"quoted\\" \\\\ name"'],
    [' ~', '" ~"'],
  ])('serialises %j as the sf-string %s', (policy, serialised) => {
    expect(policyString(policy)).toBe(serialised);
  });
});

describe('clientAddress', () => {
  it.each([
    // X-Forwarded-For, socket, trustProxy, client
    ['203.0.113.1', '10.0.0.1', false, '10.0.0.1'],
    ['203.0.113.1', '10.0.0.1', 0, '10.0.0.1'],
    [undefined, '10.0.0.1', true, '10.0.0.1'],
    [' , ', '10.0.0.1', true, '10.0.0.1'],
    ['203.0.113.1, 198.51.100.2', '10.0.0.1', true, '203.0.113.1'],
    ['203.0.113.1, 198.51.100.2', '10.0.0.1', 1, '198.51.100.2'],
    ['203.0.113.1, 198.51.100.2', '10.0.0.1', 2, '203.0.113.1'],
    ['203.0.113.1, 198.51.100.2', '10.0.0.1', 5, '203.0.113.1'],
    [' , ', '10.0.0.1', 1, '10.0.0.1'],
    [' , ', undefined, 1, undefined],
    ['203.0.113.1', undefined, 1, '203.0.113.1'],
  ])('X-Forwarded-For %j from socket %j with trustProxy %j: %j', (forwarded, socket, trustProxy, client) => {
    expect(clientAddress(forwarded, socket, trustProxy)).toBe(client);
  });
});
