import type { Clock } from './clock.js';
import type { SendCommand } from './redis-client.js';
import { RedisTimeoutError } from './redis-timeout-error.js';

/** A Lua script and its SHA-1, the name EVALSHA calls it by. */
export interface LuaScript {
  readonly source: string;
  readonly sha1: string;
}

/**
 * One call of a limiter script, by name: the script, the Redis key it decides on, the
 * operation (its first argument) and the arguments after it. A call whose operation
 * grants tokens (`take`, `reserve`) is undone by the same call with the operation
 * `refund`, which is how the transport gives back a grant nobody acted on.
 */
export interface ScriptCall {
  readonly script: LuaScript;
  readonly redisKey: string;
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

/** Whether the reply to `call` granted tokens, which a refund would give back. */
function granted(call: ScriptCall, reply: unknown): boolean {
  return (call.operation === 'take' || call.operation === 'reserve') && Array.isArray(reply) && Number(reply[0]) > 0;
}

/** The EVALSHA (or, with `source`, EVAL) command of `call`. */
function commandOf(call: ScriptCall, source?: string): string[] {
  return [source === undefined ? 'EVALSHA' : 'EVAL', source ?? call.script.sha1, '1', call.redisKey, call.operation, ...call.argv];
}

/**
 * RedisTransport sends a limiter's commands through a client and owns what a round trip
 * can go wrong with, so that the failure policy and the limiter above it see only a reply
 * or an error: the command timeout, a script Redis lost (NOSCRIPT), and a grant whose
 * reply came after its caller was answered otherwise, which it gives back to Redis.
 */
export class RedisTransport {
  readonly #send: SendCommand;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  /** Told when a give-back fails, so the limiter can count the failure. */
  readonly #onGiveBackError: (error: unknown) => void;

  constructor(send: SendCommand, timeoutMs: number, clock: Clock, onGiveBackError: (error: unknown) => void) {
    this.#send = send;
    this.#timeoutMs = timeoutMs;
    this.#clock = clock;
    this.#onGiveBackError = onGiveBackError;
  }

  /** Runs `call` as EVALSHA (EVAL when Redis lost the script); `done` is called once. */
  run(call: ScriptCall, done: Done): InFlight {
    let abandoned = false;
    this.#command(commandOf(call), call, (error, reply) => {
      if (abandoned) {
        if (error === undefined) this.#giveBackIfGranted(call, reply);
        return;
      }
      done(error, reply);
    });
    return { abandon: () => void (abandoned = true) };
  }

  /** Sends `args` (a command without a script: DEL, PING); `done` is called once. */
  command(args: string[], done: Done): void {
    this.#command(args, undefined, done);
  }

  /** Gives back, not waiting for the answer, what a granting `call` took. */
  giveBack(call: ScriptCall): void {
    const refund: ScriptCall = { ...call, operation: 'refund' };
    this.#command(commandOf(refund), refund, (error) => error !== undefined && this.#onGiveBackError(error));
  }

  #giveBackIfGranted(call: ScriptCall, reply: unknown): void {
    if (granted(call, reply)) this.giveBack(call);
  }

  /**
   * Sends one command and calls `done` once: with its reply, its error, or a
   * RedisTimeoutError when no reply came within `timeoutMs` — judged one timer turn later,
   * so that a reply already received while the event loop was busy is not discarded. A
   * grant that comes after the timeout is given back. An EVALSHA that Redis answers
   * NOSCRIPT is sent once more as EVAL, which also caches the script.
   */
  #command(args: string[], call: ScriptCall | undefined, done: Done): void {
    const clock = this.#clock;
    let settled = false;
    let timer = clock.setTimeout(() => {
      timer = clock.setTimeout(() => {
        if (settled) return;
        settled = true;
        done(new RedisTimeoutError(this.#timeoutMs));
      }, 1);
    }, this.#timeoutMs);
    const onReply = (reply: unknown) => {
      if (settled) return call && this.#giveBackIfGranted(call, reply);
      settled = true;
      clock.clearTimeout(timer);
      done(undefined, reply);
    };
    const onError = (error: unknown) => {
      if (settled) return;
      if (call !== undefined && args[0] === 'EVALSHA' && isNoScript(error)) return send(commandOf(call, call.script.source));
      settled = true;
      clock.clearTimeout(timer);
      done(error ?? new Error('Redis command failed'));
    };
    const send = (command: string[]) => {
      try {
        this.#send(command).then(onReply, onError);
      } catch (error) {
        onError(error);
      }
    };
    send(args);
  }
}
