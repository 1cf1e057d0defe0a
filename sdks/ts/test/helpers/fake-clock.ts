import type { Clock } from '../../src/core/options';

/** A clock that never waits: sleeping advances time and is recorded; jitter is fixed. */
export class FakeClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(
    private time = Date.UTC(2026, 10, 22, 12, 0, 0),
    private readonly jitter = 0,
  ) {}

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
    this.time += ms;
    return Promise.resolve();
  }

  random(): number {
    return this.jitter;
  }

  advance(ms: number): void {
    this.time += ms;
  }
}
