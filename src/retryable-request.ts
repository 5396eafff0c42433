/** The arguments of one call of fetch. */
export type FetchArguments = [input: RequestInfo | URL, init?: RequestInit | undefined];

/**
 * A request that can be sent more than once: `send(last)` returns the arguments for the
 * next attempt; `retryable` says whether there may be one after the first.
 */
export interface RetryableRequest {
  readonly retryable: boolean;
  /** Returns the arguments for the next attempt; `last` when no other attempt will follow. */
  send(last: boolean): FetchArguments;
}

/** Returns whether fetch can send `body` again as it is: it is not consumed by sending. */
function replayable(body: unknown): boolean {
  return (
    typeof body === 'string' ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    (typeof Blob === 'function' && body instanceof Blob) ||
    (typeof FormData === 'function' && body instanceof FormData)
  );
}

/**
 * Returns the request `input` and `init` describe, ready to be sent once or more. A body
 * in `init` that fetch does not consume (string, ArrayBuffer, typed array or DataView,
 * Blob, URLSearchParams, FormData) is sent again as it is; a stream (ReadableStream, async
 * iterable) makes the request not retryable. A `Request` is cloned before each attempt but
 * the last, since sending one uses it up: its body is kept (in memory) for the next.
 */
export function retryableRequest(input: RequestInfo | URL, init?: RequestInit): RetryableRequest {
  const body = init?.body;
  const retryable = body === undefined || body === null || replayable(body);
  if (!(typeof Request === 'function' && input instanceof Request)) return { retryable, send: () => [input, init] };
  return { retryable, send: (last) => [last || !retryable ? input : input.clone(), init] };
}
