// An LLM-style client under two limits at once: 4 requests per second and 6,000 tokens per
// second. Each call reserves its estimated tokens, and the estimate is settled afterwards:
// unused tokens are refunded, extra ones charged. Run: npx tsx examples/llm-client.ts
import { TokenBucket } from '../src/index.js';
import { acquireAll } from '../src/outbound.js';

const requestsPerSecond = new TokenBucket({ capacity: 4, refillPerSecond: 4 });
const tokensPerSecond = new TokenBucket({ capacity: 6_000, refillPerSecond: 6_000 });

/** A stand-in for a model API: the tokens a completion really used are known only afterwards. */
async function complete(prompt: string): Promise<{ text: string; usedTokens: number }> {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return { text: `echo: ${prompt}`, usedTokens: 600 + ((prompt.length * 37) % 1_200) };
}

async function limitedComplete(prompt: string): Promise<string> {
  const estimate = 1_500;
  await acquireAll([
    [requestsPerSecond, 1],
    [tokensPerSecond, estimate],
  ]);
  const { text, usedTokens } = await complete(prompt);
  if (usedTokens < estimate) tokensPerSecond.refund(estimate - usedTokens);
  else tokensPerSecond.charge(usedTokens - estimate);
  console.log(`${performance.now().toFixed(0).padStart(6)} ms  ${prompt.padEnd(10)} used ${String(usedTokens).padStart(5)} tokens, ${tokensPerSecond.available.toFixed(0).padStart(5)} left`);
  return text;
}

const prompts = Array.from({ length: 12 }, (_, index) => `prompt #${index + 1}`);
await Promise.all(prompts.map(limitedComplete));
console.log('stats:', tokensPerSecond.stats());
