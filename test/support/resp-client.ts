import { type Socket, connect } from 'node:net';

/**
 * A minimal Redis client of our own (RESP2 over one socket, replies in order): the "any
 * object offering sendCommand(args)" a user might bring instead of ioredis or node-redis.
 * It also counts the commands it sends, so tests can count round trips.
 */
export class RespClient {
  readonly #socket: Socket;
  readonly #waiting: { resolve(value: unknown): void; reject(error: Error): void }[] = [];
  #buffer = Buffer.alloc(0);
  /** Every command sent, its arguments as given. */
  readonly sent: string[][] = [];

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      for (;;) {
        const parsed = parse(this.#buffer, 0);
        if (!parsed) break;
        this.#buffer = this.#buffer.subarray(parsed.end);
        const waiter = this.#waiting.shift()!;
        if (parsed.value instanceof Error) waiter.reject(parsed.value);
        else waiter.resolve(parsed.value);
      }
    });
    socket.on('close', () => {
      for (const waiter of this.#waiting.splice(0)) waiter.reject(new Error('connection closed'));
    });
  }

  static connect(url: string): Promise<RespClient> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => resolve(new RespClient(socket)));
      socket.once('error', reject);
    });
  }

  sendCommand(args: string[]): Promise<unknown> {
    this.sent.push(args);
    const frame = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
    return new Promise((resolve, reject) => {
      if (this.#socket.destroyed) return reject(new Error('connection closed'));
      this.#waiting.push({ resolve, reject });
      this.#socket.write(frame);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

function parse(buffer: Buffer, start: number): { value: unknown; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', start);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (String.fromCharCode(buffer[start]!)) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: next };
      if (buffer.length < next + length + 2) return undefined;
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, end: next };
      const items: unknown[] = [];
      let end = next;
      for (let i = 0; i < count; i++) {
        const item = parse(buffer, end);
        if (!item) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: items, end };
    }
    default:
      throw new Error(`unexpected RESP type in ${line}`);
  }
}
