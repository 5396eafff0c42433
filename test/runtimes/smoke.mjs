// ESM smoke run for Node, Bun and Deno: node test/runtimes/smoke.mjs
import * as outbound from '../../dist/outbound.js';
import * as http from '../../dist/http.js';
import * as lib from '../../dist/index.js';
import * as redis from '../../dist/redis.js';
import { runChecks } from './checks.mjs';

console.log(`esm ${await runChecks(lib, http, outbound, redis)}`);
