import { once } from 'node:events';
import { type IncomingMessage, type RequestListener, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Hono } from 'hono';
import { afterEach } from 'vitest';

// Real servers on loopback for the HTTP tests, closed after each test, and the global
// fetch as the client.
const open: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** A loopback host to listen on: IPv4, IPv6, or both (a dual-stack `::`). */
export type Host = '127.0.0.1' | '::1' | '::';

function origin(host: Host, port: number): string {
  return host === '127.0.0.1' ? `http://127.0.0.1:${port}` : `http://[::1]:${port}`;
}

/** Listens with `server` on a free port of `host`; returns its origin. */
export async function listen(server: Server, host: Host = '127.0.0.1'): Promise<string> {
  open.push(() => new Promise((resolve) => server.close(resolve)));
  server.listen(0, host);
  await once(server, 'listening');
  return origin(host, (server.address() as AddressInfo).port);
}

/** Serves an Express app; returns its origin. */
export function serveExpress(setup: (app: express.Express) => void, host?: Host): Promise<string> {
  const app = express();
  setup(app);
  return listen(createServer(app), host);
}

/** Serves a bare node:http listener; returns its origin. */
export function serveNode(listener: RequestListener<typeof IncomingMessage>, host?: Host): Promise<string> {
  return listen(createServer(listener), host);
}

/** Serves a Fastify app set up by `setup`; returns its origin. */
export async function serveFastify(setup: (app: FastifyInstance) => void | Promise<void>, host: Host = '127.0.0.1'): Promise<string> {
  const app = Fastify();
  await setup(app);
  await app.listen({ port: 0, host });
  open.push(() => app.close());
  return origin(host, (app.server.address() as AddressInfo).port);
}

/** Serves a Hono app on @hono/node-server; returns its origin. */
export async function serveHono(app: Hono, host: Host = '127.0.0.1'): Promise<string> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: host }) as Server;
  open.push(() => new Promise((resolve) => server.close(resolve)));
  if (!server.listening) await once(server, 'listening');
  return origin(host, (server.address() as AddressInfo).port);
}

/** Serves a fetch handler on node:http as Bun and Deno do, passing the socket's address as `ip`. */
export function serveFetch(handler: (request: Request, ip: string | undefined) => Promise<Response>, host?: Host): Promise<string> {
  return serveNode(async (req, res) => {
    const request = new Request(`http://localhost${req.url}`, { method: req.method ?? 'GET', headers: req.headers as Record<string, string> });
    const response = await handler(request, req.socket.remoteAddress);
    res.writeHead(response.status, headersOf(response));
    res.end(Buffer.from(await response.arrayBuffer()));
  }, host);
}

/** Returns the fields of a response as a record of lower-case names. */
export function headersOf(response: Response): Record<string, string> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** A response as the tests read it. */
export interface Received {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Requests `url` with the global fetch; returns status, headers and body. */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Received> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, headers: headersOf(response), body: await response.text() };
}

/** Requests `url` `count` times in turn; returns the statuses. */
export async function statuses(url: string, count: number, headers: (index: number) => Record<string, string> = () => ({})): Promise<number[]> {
  const seen: number[] = [];
  for (let index = 0; index < count; index++) seen.push((await get(url, headers(index))).status);
  return seen;
}
