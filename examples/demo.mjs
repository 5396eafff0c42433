// An outbound API client kept under its provider's limit: 5 calls at once, then 2 per second.
// Run with `npm run demo` (it builds the package first).
import { TokenBucket } from '../dist/index.js';

const bucket = new TokenBucket({ capacity: 5, refillPerSecond: 2 });
const startMs = performance.now();
const elapsed = () => (performance.now() - startMs).toFixed(0).padStart(5);

/** A stand-in for a paid API: it answers after 20 ms. */
async function callApi(request) {
  await new Promise((resolve) => setTimeout(resolve, 20));
  return `answer to #${request}`;
}

/** Every call waits its turn in the bucket before it goes out. */
async function limitedCall(request) {
  await bucket.acquire();
  const sentAtMs = performance.now() - startMs;
  const phase = sentAtMs < 50 ? 'burst (bucket starts full)' : 'steady rate (2 per second)';
  const column = Math.round(sentAtMs / 100);
  console.log(`${elapsed()} ms  |${' '.repeat(column)}●${' '.repeat(Math.max(0, 45 - column))}| call #${String(request).padStart(2)}  ${phase}`);
  return callApi(request);
}

console.log('fairbucket demo: 12 calls to an API limited to a burst of 5, then 2 per second');
const axis = Array.from({ length: 46 }, () => ' ');
for (let second = 0; second <= 4; second++) axis.splice(second * 10, 3, ...`${second} s`);
console.log(`    time  |${axis.join('').slice(0, 46)}|`);
const answers = await Promise.all(Array.from({ length: 12 }, (_, index) => limitedCall(index + 1)));
const totalMs = performance.now() - startMs;
console.log(`\n${answers.length} calls answered in ${(totalMs / 1000).toFixed(2)} s; ideal: 5 at once, 7 more at 500 ms intervals = 3.50 s.`);
console.log(`Tokens left: ${bucket.available.toFixed(3)}; the next call could go in ${bucket.retryAfter().toFixed(1)} ms.`);
