import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', http: 'src/http.ts', outbound: 'src/outbound.ts', redis: 'src/redis.ts', simulate: 'src/simulate.ts', cli: 'src/cli.ts' },
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  sourcemap: false,
  target: 'es2022',
  platform: 'neutral',
  // Each entry self-contained: the core must import nothing, and sizes stay per entry.
  splitting: false,
});
