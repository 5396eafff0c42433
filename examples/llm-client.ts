// An LLM-style client under two limits at once, 4 requests per second and 6,000 tokens per
// second, in one limitFetch call: each request takes its estimated tokens, and `settle`
// reads the tokens really used from the response, so the difference is refunded or
// charged. A 429 pauses both budgets for its Retry-After, then the request is sent again.
// A local server stands in for the model API. Run: npx tsx examples/llm-client.ts
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TokenBucket } from '../src/index.js';
import { limitFetch } from '../src/outbound.js';

/** A stand-in for a model API: the tokens a completion really used are known only afterwards. */
const server = createServer(async (req, res) => {
  let body = '';
  for await (const chunk of req) body += String(chunk);
  const { prompt } = JSON.parse(body) as { prompt: string };
  const usage = { total_tokens: 600 + ((prompt.length * 37) % 1_200) };
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ text: `echo: ${prompt}`, usage }));
});
server.listen(0, '127.0.0.1');
await once(server, 'listening');
const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/completions`;

const requestsPerSecond = new TokenBucket({ capacity: 4, refillPerSecond: 4 });
const tokensPerSecond = new TokenBucket({ capacity: 6_000, refillPerSecond: 6_000 });
const estimatedTokens = 1_500;

interface Completion {
  readonly text: string;
  readonly usage: { readonly total_tokens: number };
}

const completionsFetch = limitFetch(
  fetch,
  [
    [requestsPerSecond, 1],
    [tokensPerSecond, estimatedTokens],
  ],
  {
    retries: 3,
    // The actual cost of each budget: one request, and the tokens the response reports.
    settle: async (response) => (response.ok ? [1, ((await response.json()) as Completion).usage.total_tokens] : undefined),
  },
);

async function complete(prompt: string): Promise<string> {
  const response = await completionsFetch(endpoint, { method: 'POST', body: JSON.stringify({ prompt }) });
  const { text, usage } = (await response.json()) as Completion;
  console.log(`${performance.now().toFixed(0).padStart(6)} ms  ${prompt.padEnd(10)} used ${String(usage.total_tokens).padStart(5)} tokens, ${tokensPerSecond.available.toFixed(0).padStart(5)} left`);
  return text;
}

const prompts = Array.from({ length: 12 }, (_, index) => `prompt #${index + 1}`);
await Promise.all(prompts.map(complete));
console.log('stats:', tokensPerSecond.stats());
server.close();
