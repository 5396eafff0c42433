/** CRC16-CCITT (XMODEM) of each byte value, the checksum Redis Cluster hashes keys with. */
const TABLE = /* @__PURE__ */ (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

/** The part of `key` Redis Cluster hashes: the text between the first `{` and the next `}`, when not empty. */
function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open === -1) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/**
 * Returns the Redis Cluster hash slot (0 to 16383) of `key`: CRC16 of its UTF-8 bytes (of
 * its `{hash tag}` when it has one), modulo 16384. Keys with one slot can be decided
 * together by one script.
 * @example
 * ```ts
 * hashSlot('{user:1}:second') === hashSlot('{user:1}:hour'); // true
 * ```
 */
export function hashSlot(key: string): number {
  const text = hashTagOf(key);
  let crc = 0;
  const step = (byte: number) => (crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ byte) & 0xff]!);
  for (let index = 0; index < text.length; index++) {
    let code = text.charCodeAt(index);
    if (code < 0x80) {
      step(code);
      continue;
    }
    if (code >= 0xd800 && code < 0xdc00 && index + 1 < text.length) {
      const low = text.charCodeAt(index + 1);
      if (low >= 0xdc00 && low < 0xe000) {
        index++;
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
      }
    }
    // A lone surrogate is encoded as U+FFFD, like Buffer.from(key) does.
    if (code >= 0xd800 && code < 0xe000) code = 0xfffd;
    if (code < 0x800) {
      step(0xc0 | (code >> 6));
    } else if (code < 0x10000) {
      step(0xe0 | (code >> 12));
      step(0x80 | ((code >> 6) & 0x3f));
    } else {
      step(0xf0 | (code >> 18));
      step(0x80 | ((code >> 12) & 0x3f));
      step(0x80 | ((code >> 6) & 0x3f));
    }
    step(0x80 | (code & 0x3f));
  }
  return crc & 0x3fff;
}
