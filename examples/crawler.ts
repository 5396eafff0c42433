// A crawler that obeys its target's Retry-After: a local server answers 429 now and then,
// and limitFetch pauses the whole crawler for as long as asked, then retries.
// Run: npx tsx examples/crawler.ts
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenBucket } from '../src/index.js';
import { limitFetch } from '../src/outbound.js';

let served = 0;
const server = createServer((req, res) => {
  served++;
  if (served % 5 === 0) {
    res.writeHead(429, { 'Retry-After': '1' }).end();
    console.log(`server: 429 for ${req.url}, come back in 1 s`);
    return;
  }
  res.end(`page ${req.url}`);
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

const politeFetch = limitFetch(fetch, new TokenBucket({ capacity: 2, refillPerSecond: 4 }), { retries: 3 });
const startMs = performance.now();
for (let page = 1; page <= 10; page++) {
  const response = await politeFetch(`${origin}/page/${page}`);
  console.log(`${(performance.now() - startMs).toFixed(0).padStart(5)} ms  /page/${page} -> ${response.status}`);
}
server.close();
