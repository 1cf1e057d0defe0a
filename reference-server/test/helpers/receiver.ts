import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Received {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** How the receiver answers one request: a status, or `hang` (never answers) or `drop`. */
export type Answer = number | 'hang' | 'drop' | { status: number; headers: Record<string, string> };

/**
 * A webhook endpoint on loopback for tests: it records every request and answers from a
 * script (the last answer repeats), so a test can say "500, then 200".
 */
export class Receiver {
  readonly received: Received[] = [];
  private script: Answer[] = [200];
  private waiters: (() => void)[] = [];

  private constructor(private readonly server: Server) {}

  /** On a free loopback port, or on `port` (a receiver coming back where it was). */
  static async start(port = 0): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        receiver.received.push({ headers: req.headers, body, at: Date.now() });
        for (const wake of receiver.waiters.splice(0)) wake();
        const answer = receiver.script.length > 1 ? receiver.script.shift() : receiver.script[0];
        if (answer === 'hang') return;
        if (answer === 'drop') {
          req.socket.destroy();
          return;
        }
        if (typeof answer === 'object') res.writeHead(answer.status, answer.headers).end('moved');
        else res.writeHead(answer ?? 200).end(`answer ${answer ?? 200}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hooks`;
  }

  answer(...script: Answer[]): void {
    this.script = script;
  }

  async waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (Date.now() > deadline) throw new Error(`${this.received.length} of ${count} requests after ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.received.slice(0, count);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => { resolve(); }));
  }
}
