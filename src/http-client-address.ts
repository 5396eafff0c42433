/*
 * Where the default key comes from: the client's address, from the socket or, as far as
 * `trustProxy` allows, from `X-Forwarded-For`.
 */

/**
 * The request shapes guards read: Node's, Express's, Fastify's (`raw`) and fetch's.
 * @example
 * ```ts
 * const guard = rateLimit<NodeLikeRequest>({ limiter }); // an IncomingMessage fits
 * ```
 */
export interface NodeLikeRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>> | { get(name: string): string | null };
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
  readonly raw?: NodeLikeRequest | undefined;
}

/** Returns the `X-Forwarded-For` field of a Node or fetch request, repeated fields joined. */
export function forwardedFor(req: NodeLikeRequest): string | undefined {
  const headers = req.headers;
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(name: string): string | null }).get('x-forwarded-for') ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)['x-forwarded-for'];
  return Array.isArray(value) ? value.join(',') : value;
}

/** Returns the socket's peer address of a Node or Fastify request. */
export function socketAddress(req: NodeLikeRequest): string | undefined {
  return (req.socket ?? req.raw?.socket)?.remoteAddress;
}

/**
 * Returns the client address: the socket's peer, or an `X-Forwarded-For` entry as far as
 * `trustProxy` allows; undefined when neither shows one.
 */
export function clientAddress(forwarded: string | undefined, socket: string | undefined, trustProxy: boolean | number): string | undefined {
  if (trustProxy === false || trustProxy === 0 || !forwarded) return socket;
  const hops = forwarded
    .split(',')
    .map((address) => address.trim())
    .filter(Boolean);
  if (trustProxy === true) return hops[0] ?? socket;
  // The socket's peer is the nearest proxy: N trusted proxies put the client N entries
  // from the right; with fewer entries, the leftmost is the furthest known.
  return hops[hops.length - trustProxy] ?? hops[0] ?? socket;
}
