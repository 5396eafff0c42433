// The load generator of the HTTP benchmark, in its own process so that it does not share
// an event loop with the server: answers each { url, durationS, connections } message with
// autocannon's totals.
import autocannon from 'autocannon';

process.on('message', async ({ url, durationS, connections }) => {
  const result = await autocannon({ url, duration: durationS, connections });
  process.send({
    requests: result.requests.total,
    durationS: result.duration,
    p99Ms: result.latency.p99,
    statuses: { '2xx': result['2xx'], '4xx': result['4xx'], other: result['1xx'] + result['3xx'] + result['5xx'] + result.errors + result.timeouts },
  });
});
process.send('ready');
