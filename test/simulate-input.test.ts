import { describe, expect, it } from 'vitest';
import { type InputOptions, LineParser, PREFIX_CACHE_SIZE, csvFields } from '../src/simulate-input.js';
import { parseTime } from '../src/simulate-time-format.js';

/** Parses `lines` with a fresh parser; returns each line's request or problem. */
function parse(lines: readonly string[], options?: InputOptions) {
  const parser = new LineParser(options);
  const results = lines.map((line) => {
    const problem = parser.parse(line);
    return problem === undefined ? { timeMs: parser.timeMs, key: parser.key, cost: parser.cost } : problem;
  });
  return { results, format: parser.format };
}

const JAN_5 = Date.UTC(2026, 0, 5, 10, 0, 0);

/** A request read from a line: `key` at JAN_5 plus `afterMs`, costing `cost`. */
const read = (key: string, afterMs = 0, cost = 1) => ({ timeMs: JAN_5 + afterMs, key, cost });
const COMBINED = '203.0.113.7 - alice [05/Jan/2026:10:00:00 +0000] "GET /a?q=\\"x\\" HTTP/1.1" 200 5123 "https://example.com/" "curl/8.5.0"';

describe('LineParser', () => {
  describe('Common and Combined Log Format', () => {
    it('reads the client address and the time, with its zone', () => {
      const times = ['05/Jan/2026:10:00:00 +0000', '05/Jan/2026:12:30:00 +0230', '05/Jan/2026:05:00:00.250 -0500', '05/Jan/2026:10:00:00'];
      const { results, format } = parse(times.map((time) => `203.0.113.7 - - [${time}] "GET / HTTP/1.1" 200 12`));
      expect(format).toBe('clf');
      expect(results).toEqual([
        read('203.0.113.7'),
        read('203.0.113.7'),
        read('203.0.113.7', 250),
        read('203.0.113.7'),
      ]);
    });

    it('keys an IPv6 client by its /56, or by another prefix, or by itself', () => {
      const lines = ['2001:db8:1:2ff:aaaa::1', '2001:db8:1:200:bbbb::2', '2001:db8:1:3ff::1', '::ffff:192.0.2.1', '2001:db8::1'].map(
        (address) => `${address} - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12`,
      );
      expect(parse(lines).results.map((result) => (result as { key: string }).key)).toEqual([
        '2001:db8:1:200::/56',
        '2001:db8:1:200::/56',
        '2001:db8:1:300::/56',
        '192.0.2.1',
        '2001:db8::/56',
      ]);
      expect(parse(lines.slice(0, 3), { ipv6Subnet: 64 }).results.map((result) => (result as { key: string }).key)).toEqual([
        '2001:db8:1:2ff::/64',
        '2001:db8:1:200::/64',
        '2001:db8:1:3ff::/64',
      ]);
      expect(parse(lines.slice(0, 1), { ipv6Subnet: false }).results).toEqual([read('2001:db8:1:2ff:aaaa::1')]);
    });

    it('does not remember a prefix from an address keyed as IPv4 (a mapped address written out, ::1 written out)', () => {
      const lines = ['0:0:0:0:0:ffff:c000:201', '0:0:0:0:1::1', '0:0:0:0:0:0:0:1', '0:0:0:0:2::2'].map((address) => `${address} - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12`);
      expect(parse(lines).results.map((result) => (result as { key: string }).key)).toEqual(['192.0.2.1', '::/56', '127.0.0.1', '::/56']);
    });

    it('does not take a host name for an IPv6 prefix it has seen', () => {
      const lines = ['1:2:3:4', '1:2:3:4:5:6:7:8', 'a:b:c:d:zz', 'a:b:c:d:e', 'a:b:c:d::1'].map((address) => `${address} - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12`);
      expect(parse(lines).results.map((result) => (result as { key: string }).key)).toEqual(['1:2:3:4', '1:2:3::/56', 'a:b:c:d:zz', 'a:b:c:d:e', 'a:b:c::/56']);
    });

    it('keys by the user, a header of Combined Log Format or any field, and reads the cost from a field', () => {
      expect(parse([COMBINED], { key: 'user' }).results).toEqual([read('alice')]);
      expect(parse([COMBINED], { key: 'header:User-Agent', costField: 'bytes' }).results).toEqual([read('curl/8.5.0', 0, 5123)]);
      expect(parse([COMBINED], { key: 'field:referer' }).results).toEqual([read('https://example.com/')]);
      expect(parse([COMBINED.replace('5123', '-')], { costField: 'bytes' }).results).toEqual([read('203.0.113.7', 0, 0)]);
    });

    it('says why it cannot read a line', () => {
      const { results } = parse([
        '203.0.113.7 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12',
        '203.0.113.7 - - [05/Foo/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12',
        '203.0.113.7 - - [05/Jan/2026:10:00:00 +0000',
        'garbage',
        '203.0.113.7 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12',
      ]);
      expect(results.slice(1, 4)).toEqual([
        'time "05/Foo/2026:10:00:00 +0000" in `time` is not ISO-8601, [dd/Mon/yyyy:hh:mm:ss zone], epoch seconds or milliseconds',
        'not in Common or Combined Log Format',
        'not in Common or Combined Log Format',
      ]);
      expect(parse([COMBINED], { key: 'cookie' }).results).toEqual([
        'no field `cookie` in Common or Combined Log Format (fields: ip, ident, user, time, request, status, bytes, referer, user-agent)',
      ]);
      expect(parse([COMBINED], { costField: 'tokens' }).results).toEqual([
        'no field `tokens` in Common or Combined Log Format (fields: ip, ident, user, time, request, status, bytes, referer, user-agent)',
      ]);
      expect(parse(['203.0.113.7 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12'], { key: 'header:referer' }).results).toEqual(['no header `referer` to key it by']);
      expect(parse([COMBINED.replace('5123', 'many')], { costField: 'bytes' }).results).toEqual(['cost "many" in `bytes` is not a number >= 0']);
      expect(parse(['203.0.113.7 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1'], { key: 'user-agent' }).results).toEqual(['no `user-agent` to key it by']);
      expect(parse(['203.0.113.7 - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200'], { costField: 'bytes' }).results).toEqual(['cost missing in `bytes` is not a number >= 0']);
    });

    it('forgets the IPv6 prefixes it remembers once it has PREFIX_CACHE_SIZE of them, and keys alike after', () => {
      const address = (index: number) => `2001:db8:${(index >> 8).toString(16)}:${(index & 0xff).toString(16)}00:1::1`;
      const lines = Array.from({ length: PREFIX_CACHE_SIZE + 2 }, (_, index) => `${address(index)} - - [05/Jan/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 12`);
      const { results } = parse([...lines, lines[0]!]);
      expect(results.at(-1)).toEqual(read('2001:db8:0:0::/56'.replace(':0:0::', '::')));
      expect(results.at(-2)).toEqual(read(`2001:db8:${((PREFIX_CACHE_SIZE + 1) >> 8).toString(16)}:${(((PREFIX_CACHE_SIZE + 1) & 0xff) << 8).toString(16)}::/56`));
    });
  });

  describe('JSON lines', () => {
    it('finds the address and time fields by their usual names, and reads ISO-8601 and epoch times', () => {
      const { results, format } = parse([
        '{"time":"2026-01-05T10:00:00Z","remote_addr":"203.0.113.7"}',
        '{"timestamp":"2026-01-05T11:00:00+01:00","ip":"203.0.113.8"}',
        '{"ts":1767607200,"client_ip":"203.0.113.9"}',
        '{"ts":1767607200000,"remoteAddress":"203.0.113.10"}',
        '{"@timestamp":"2026-01-05 10:00:00.5","client":"203.0.113.11"}',
        '{"date":"1767607200.25","ip":"203.0.113.12"}',
        '  ',
      ]);
      expect(format).toBe('json');
      expect(results).toEqual([
        read('203.0.113.7'),
        read('203.0.113.8'),
        read('203.0.113.9'),
        read('203.0.113.10'),
        read('203.0.113.11', 500),
        read('203.0.113.12', 250),
        null,
      ]);
    });

    it('reads named fields, dotted paths, headers and costs', () => {
      const line = '{"at":1767607200,"user":{"id":42},"headers":{"X-Api-Key":"k1"},"http_x_team":"blue","tokens":"2.5","ip":"203.0.113.7"}';
      expect(parse([line], { timeField: 'at', key: 'user.id', costField: 'tokens' }).results).toEqual([read('42', 0, 2.5)]);
      expect(parse([line], { timeField: 'at', key: 'header:x-api-key' }).results).toEqual([read('k1')]);
      expect(parse([line], { timeField: 'at', key: 'header:x-team' }).results).toEqual([read('blue')]);
      expect(parse(['{"at":1767607200000,"request":{"headers":{"authorization":"Bearer t"}}}'], { timeField: 'at', key: 'header:authorization' }).results).toEqual([
        read('Bearer t'),
      ]);
      expect(parse(['{"at":1767607200,"who":"me"}'], { timeField: 'at', timeUnit: 'ms', key: 'who' }).results).toEqual([{ timeMs: 1767607200, key: 'me', cost: 1 }]);
      expect(parse(['{"at":1767607200000,"who":"me"}'], { timeField: 'at', timeUnit: 's', key: 'who' }).results).toEqual([{ timeMs: 1767607200000000, key: 'me', cost: 1 }]);
      expect(parse(['{"a.b":"x","time":0}'], { key: 'a.b' }).results).toEqual([{ timeMs: 0, key: 'x', cost: 1 }]);
    });

    it('says why it cannot read a line', () => {
      expect(
        parse(
          [
            '{"time":"2026-01-05T10:00:00Z","ip":"203.0.113.7"',
            '[1,2]',
            '{"ip":"203.0.113.7"}',
            '{"time":"yesterday","ip":"203.0.113.7"}',
            '{"time":"2026-01-05T10:00:00Z"}',
            '{"time":"2026-01-05T10:00:00Z","ip":""}',
            '{"time":"2026-01-05T10:00:00Z","ip":"203.0.113.7","cost":-1}',
          ],
          { format: 'json', costField: 'cost' },
        ).results,
      ).toEqual([
        'not JSON',
        'not a JSON object',
        'no time field (name it with --time-field; looked for time, timestamp, @timestamp, ts, time_local, time_iso8601, date)',
        'time "yesterday" in `time` is not ISO-8601, [dd/Mon/yyyy:hh:mm:ss zone], epoch seconds or milliseconds',
        'no client address field (name it with --ip-field; looked for remote_addr, ip, client_ip, remoteAddress, client)',
        'no client address field (name it with --ip-field; looked for remote_addr, ip, client_ip, remoteAddress, client)',
        'cost -1 in `cost` is not a number >= 0',
      ]);
      expect(parse(['{"time":0,"ip":"a"}'], { costField: 'cost' }).results).toEqual(['cost missing in `cost` is not a number >= 0']);
      expect(parse(['{"time":0,"ip":"a"}'], { timeField: 'at' }).results).toEqual(['time missing in `at` is not ISO-8601, [dd/Mon/yyyy:hh:mm:ss zone], epoch seconds or milliseconds']);
      expect(parse(['{"time":0,"ip":"a"}'], { key: 'header:x-api-key' }).results).toEqual(['no header `x-api-key` to key it by']);
      expect(parse(['{"time":0,"ip":"a","user":{}}'], { key: 'user' }).results).toEqual(['no `user` to key it by']);
      expect(parse(['{"time":0,"user":"u"}'], { key: 'user.id' }).results).toEqual(['no `user.id` to key it by']);
      expect(parse(['{"time":0,"ip":true}']).results).toEqual(['no `ip` to key it by']);
    });
  });

  describe('CSV', () => {
    it('takes the field names from the first line, and reads quoted fields', () => {
      const { results, format } = parse(['time,client_ip,path,cost', '1767607200,203.0.113.7,/a,2', '2026-01-05T10:00:00Z,"203.0.113.8","/b,c",1', '', '1767607200,203.0.113.9,"x ""y""",3']);
      expect(format).toBe('csv');
      expect(results).toEqual([null, read('203.0.113.7'), read('203.0.113.8'), null, read('203.0.113.9')]);
      expect(parse(['ts;user;cost', '1767607200;u1;2'], { delimiter: ';', key: 'user', costField: 'cost', format: 'csv' }).results).toEqual([null, read('u1', 0, 2)]);
      expect(parse(['time,http_x_api_key', '1767607200,k9'], { key: 'header:X-Api-Key' }).results).toEqual([null, read('k9')]);
    });

    it('says why it cannot read a line', () => {
      expect(parse(['time,ip', '1767607200', '1767607200,1.2.3.4,extra', 'soon,1.2.3.4']).results).toEqual([
        null,
        'expected 2 CSV fields, got 1',
        'expected 2 CSV fields, got 3',
        'time "soon" in `time` is not ISO-8601, [dd/Mon/yyyy:hh:mm:ss zone], epoch seconds or milliseconds',
      ]);
      expect(parse(['when,ip', '1,1.2.3.4']).results[1]).toMatch(/^no time field/);
      expect(parse(['time,who', '1,me']).results[1]).toMatch(/^no client address field/);
    });

    it('splits fields as RFC 4180 does, quotes included', () => {
      expect(csvFields('a,"b,c","d""e",', ',')).toEqual(['a', 'b,c', 'd"e', '']);
    });
  });
});

describe('parseTime', () => {
  it.each([
    ['2026-01-05T10:00:00Z', JAN_5],
    ['2026-01-05T10:00:00.123z', JAN_5 + 123],
    ['2026-01-05T10:00', JAN_5],
    ['2026-01-05T11:00:00+0100', JAN_5],
    ['2026-01-05', Date.UTC(2026, 0, 5)],
    ['05/Jan/2026:10:00:00 +0000', JAN_5],
    [1767607200, JAN_5],
    ['1767607200123', JAN_5 + 123],
    ['05/Jan/2026:10:00:00.5', JAN_5 + 500],
  ])('reads %j', (text, expected) => {
    expect(parseTime(text, 'auto')).toBe(expected);
    expect(parseTime(text, 'auto')).toBe(expected); // again, remembered
  });

  it.each([[''], ['tomorrow'], [Number.NaN], [Infinity], [null], ['05/Jan/2026:10:00:00 x0000'], ['05/Jan/2026:1x:00:00 +0000'], ['2026-13-45T99:00:00Z']])('does not read %j', (value) => {
    expect(parseTime(value, 'auto')).toBeUndefined();
    expect(parseTime(value, 'auto')).toBeUndefined();
  });
});
