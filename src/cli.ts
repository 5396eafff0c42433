#!/usr/bin/env node
// The `fairbucket` command: `fairbucket simulate|recommend`, see `fairbucket --help`.
import { main } from './cli-main.js';

void main(process.argv.slice(2), process).then((code) => {
  process.exitCode = code;
});
