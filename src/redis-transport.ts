import type { Clock } from './clock.js';
import type { RedisDriver } from './redis-client.js';
import { RedisTimeoutError } from './redis-timeout-error.js';

/** A Lua script, its SHA-1 (the name EVALSHA calls it by), and how to tell a reply that granted tokens. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
  granted(reply: unknown): boolean;
}

/**
 * One call of a limiter script, by name: the script, the Redis keys it decides on (the
 * first routes it), the operation (its first argument) and the arguments after it. A
 * call whose operation grants tokens (`take`, `reserve`) is undone by the same call with
 * the operation `refund`, which is how the transport gives back a grant nobody acted on.
 */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly keys: readonly string[];
  readonly operation: string;
  readonly argv: readonly string[];
}

/** Called once per command: with its reply, or with its error (a RedisTimeoutError when late). */
export type Done = (error: unknown, reply?: unknown) => void;

/** A command in flight; `abandon()` says its caller was answered otherwise, so a later grant is given back. */
export interface InFlight {
  abandon(): void;
}

/** Whether Redis lost the script (a restart, SCRIPT FLUSH, a failover) and wants it sent whole. */
function isNoScript(error: unknown): boolean {
  return String((error as Error | undefined)?.message).startsWith('NOSCRIPT');
}

/** The EVALSHA command of `call`, or its EVAL when `whole`. */
function commandOf(call: ScriptCall, whole: boolean): string[] {
  const { keys, argv } = call;
  const command = [whole ? 'EVAL' : 'EVALSHA', whole ? call.script.source : call.script.sha1, String(keys.length)];
  for (const key of keys) command.push(key);
  command.push(call.operation);
  for (const arg of argv) command.push(arg);
  return command;
}

/** A command in flight, from send to its one answer. */
class Pending implements InFlight {
  /** When it times out, on the transport's clock. */
  readonly deadlineMs: number;
  readonly key: string;
  /** The call, kept while a late grant may still need giving back. */
  call: ScriptCall | undefined;
  done: Done | undefined;
  /** Answered (by a reply, an error or the timeout) or abandoned: a later reply changes nothing but a give-back. */
  settled = false;
  /** Sent again after waiting for another command to load the script; a second NOSCRIPT then sends it whole. */
  waitedForScript = false;
  /** Neighbours in the transport's list of commands not answered yet, oldest first. */
  previous: Pending | undefined = undefined;
  next: Pending | undefined = undefined;
  readonly #transport: RedisTransport;

  constructor(transport: RedisTransport, key: string, call: ScriptCall | undefined, done: Done, deadlineMs: number) {
    this.#transport = transport;
    this.key = key;
    this.call = call;
    this.done = done;
    this.deadlineMs = deadlineMs;
  }

  abandon(): void {
    this.settled = true;
    this.done = undefined;
    this.#transport.unlink(this);
  }

  /** Answers the caller once. */
  answer(error: unknown, reply?: unknown): void {
    const done = this.done!;
    this.abandon();
    done(error, reply);
  }
}

/**
 * RedisTransport sends a limiter's commands through a client and owns what can go wrong
 * with a round trip, so that the failure policy and the limiter above it see only a reply
 * or an error:
 * - the timeout: one timer for all commands in flight (not one per command), which
 *   answers a command with a RedisTimeoutError one timer turn after its `timeoutMs` —
 *   so that a reply received while the event loop was busy is not discarded;
 * - a script Redis lost (NOSCRIPT): one command per node sends it whole (EVAL), the
 *   others that met NOSCRIPT meanwhile wait for it and are sent again by SHA-1;
 * - a grant whose reply came after its caller was answered otherwise (late, or aborted),
 *   which it gives back to Redis.
 */
export class RedisTransport {
  readonly #driver: RedisDriver;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  /** Told when a give-back fails, with the Redis key it was for. */
  readonly #onGiveBackError: (error: unknown, key: string) => void;
  /**
   * The commands not answered yet, in order of deadline (they are sent in that order, with
   * one timeoutMs): a list each leaves the moment it is answered, so that nothing answered
   * is kept (keeping them until the next sweep cost more in garbage collection than the
   * rest of a decision, measured).
   */
  #oldest: Pending | undefined = undefined;
  #newest: Pending | undefined = undefined;
  #timerArmed = false;
  /** Per node and script: the commands waiting for the one EVAL loading it there. */
  readonly #loading = new Map<string, Pending[]>();

  constructor(driver: RedisDriver, timeoutMs: number, clock: Clock, onGiveBackError: (error: unknown, key: string) => void) {
    this.#driver = driver;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
    this.#onGiveBackError = onGiveBackError;
  }

  /** Runs `call` as EVALSHA (loading the script when Redis lost it); `done` is called once. */
  run(call: ScriptCall, done: Done): InFlight {
    const pending = this.#track(call.keys[0]!, call, done);
    this.#send(pending, commandOf(call, false));
    return pending;
  }

  /** Sends `args`, a command on the Redis key `key` without a script (DEL); `done` is called once. */
  command(args: string[], key: string, done: Done): void {
    this.#send(this.#track(key, undefined, done), args);
  }

  /** Gives back, not waiting for the answer, what a granting `call` took. */
  giveBack(call: ScriptCall): void {
    const key = call.keys[0]!;
    this.run({ script: call.script, keys: call.keys, operation: 'refund', argv: call.argv }, (error) => error !== undefined && this.#onGiveBackError(error, key));
  }

  #track(key: string, call: ScriptCall | undefined, done: Done): Pending {
    const pending = new Pending(this, key, call, done, this.#clock.now() + this.#timeoutMs);
    const newest = this.#newest;
    if (newest === undefined) this.#oldest = pending;
    else {
      newest.next = pending;
      pending.previous = newest;
    }
    this.#newest = pending;
    if (!this.#timerArmed) this.#arm();
    return pending;
  }

  /** Takes `pending` out of the list of commands not answered yet (each leaves it once: answered or abandoned). */
  unlink(pending: Pending): void {
    const { previous, next } = pending;
    if (previous !== undefined) previous.next = next;
    else this.#oldest = next;
    if (next !== undefined) next.previous = previous;
    else this.#newest = previous;
    pending.previous = pending.next = undefined;
  }

  #send(pending: Pending, command: string[]): void {
    try {
      this.#driver.send(command, pending.key).then(
        (reply) => this.#onReply(pending, reply),
        (error: unknown) => this.#onError(pending, error),
      );
    } catch (error) {
      this.#onError(pending, error);
    }
  }

  #onReply(pending: Pending, reply: unknown): void {
    if (!pending.settled) {
      pending.call = undefined;
      return pending.answer(undefined, reply);
    }
    const call = pending.call;
    if (call !== undefined && (call.operation === 'take' || call.operation === 'reserve') && call.script.granted(reply)) this.giveBack(call);
  }

  #onError(pending: Pending, error: unknown): void {
    if (pending.settled) return;
    const call = pending.call;
    if (call !== undefined && isNoScript(error)) return this.#load(pending, call);
    pending.answer(error ?? new Error('Redis command failed'));
  }

  /** Sends `call` whole when no other command is loading its script on its node, else waits for that one. */
  #load(pending: Pending, call: ScriptCall): void {
    const loadingKey = `${this.#driver.nodeOf(pending.key)} ${call.script.sha1}`;
    const waiting = this.#loading.get(loadingKey);
    if (waiting !== undefined && !pending.waitedForScript) {
      pending.waitedForScript = true;
      waiting.push(pending);
      return;
    }
    const waiters: Pending[] = [];
    this.#loading.set(loadingKey, waiters);
    const resume = () => {
      this.#loading.delete(loadingKey);
      for (const waiter of waiters) if (!waiter.settled) this.#send(waiter, commandOf(waiter.call!, false));
    };
    try {
      this.#driver.send(commandOf(call, true), pending.key).then(
        (reply) => (resume(), this.#onReply(pending, reply)),
        (error: unknown) => (resume(), this.#onError(pending, error)),
      );
    } catch (error) {
      resume();
      this.#onError(pending, error);
    }
  }

  /** Arms the one timer for the oldest command not answered, if any. */
  #arm(): void {
    const oldest = this.#oldest;
    if (oldest === undefined) return;
    this.#timerArmed = true;
    const clock = this.#clock;
    const delayMs = Math.max(1, Math.ceil(oldest.deadlineMs - clock.now()));
    clock.setTimeout(() => {
      // The commands due now are judged one timer turn later: a reply already read but not yet delivered still counts.
      const dueMs = clock.now();
      clock.setTimeout(() => this.#expire(dueMs), 1);
    }, delayMs);
  }

  /** Answers with a RedisTimeoutError every command still in flight whose deadline was at or before `dueMs`. */
  #expire(dueMs: number): void {
    // Callers may send new commands from their callbacks: those join the end, with later deadlines.
    for (let pending = this.#oldest; pending !== undefined && pending.deadlineMs <= dueMs; pending = this.#oldest) {
      pending.answer(new RedisTimeoutError(this.#timeoutMs));
    }
    this.#timerArmed = false;
    this.#arm();
  }
}
