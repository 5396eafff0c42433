// CJS smoke run for Node and Bun: node test/runtimes/smoke.cjs
const lib = require('../../dist/index.cjs');
const http = require('../../dist/http.cjs');
const outbound = require('../../dist/outbound.cjs');
const redis = require('../../dist/redis.cjs');

import('./checks.mjs')
  .then(({ runChecks }) => runChecks(lib, http, outbound, redis))
  .then((result) => console.log(`cjs ${result}`))
  .catch((error) => {
    console.error(error);
    process.exitCode = 1;
  });
