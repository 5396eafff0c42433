// Three rate-limit tiers keyed by API token, on Express. Run: npm run example:server
// then try: for i in $(seq 7); do curl -si -X POST -H 'authorization: alice' localhost:3000/auth/login | head -1; done
import express from 'express';
import { rateLimit } from '../src/http.js';
import { KeyedLimiter } from '../src/index.js';

const tiers = {
  default: new KeyedLimiter({ capacity: 10, refillPerSecond: 5 }),
  search: new KeyedLimiter({ capacity: 30, refillPerSecond: 10 }),
  auth_login: new KeyedLimiter({ capacity: 5, refillPerSecond: 1 }),
};
const byApiToken = (req: express.Request) => req.get('authorization') ?? `ip:${req.socket.remoteAddress}`;

const app = express();
app.post('/auth/login', rateLimit({ limiter: tiers.auth_login, key: byApiToken, policy: 'auth_login' }), (_req, res) => {
  res.json({ token: 'welcome' });
});
app.get('/search', rateLimit({ limiter: tiers.search, key: byApiToken, policy: 'search' }), (req, res) => {
  res.json({ query: req.query.q ?? '', results: [] });
});
app.use(rateLimit({ limiter: tiers.default, key: byApiToken }));
app.get('/', (_req, res) => {
  res.json({ hello: 'world' });
});

const port = Number(process.env.PORT ?? 3000);
const server = app.listen(port, '127.0.0.1', () => {
  const address = server.address();
  console.log(`listening on http://127.0.0.1:${typeof address === 'object' && address ? address.port : port}`);
});
// For a bounded run (CI, demos): EXIT_AFTER_MS=2000 npm run example:server
if (process.env.EXIT_AFTER_MS) setTimeout(() => server.close(), Number(process.env.EXIT_AFTER_MS));
