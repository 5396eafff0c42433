import { type Clock, MAX_TIMER_MS } from './clock.js';

/**
 * Waits until `ms` milliseconds have passed on `clock`, and never less: a timer that
 * fires early (Node's may, by up to a millisecond, since it counts from the event loop's
 * cached time) or at setTimeout's limit is re-armed for what is left. Rejects with
 * `signal.reason` when aborted, and leaves no timer and no listener behind either way.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const dueMs = clock.now() + ms;
    let timer: unknown;
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal!.reason);
    };
    const arm = (leftMs: number) => {
      timer = clock.setTimeout(() => {
        const nowMs = clock.now();
        if (nowMs < dueMs) return arm(dueMs - nowMs);
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(MAX_TIMER_MS, Math.max(1, Math.ceil(leftMs))));
    };
    arm(ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
