import cliProgress from 'cli-progress';

/** What long commands report to; a no-op where nobody watches. */
export interface Progress {
  start(total: number, payload?: Record<string, unknown>): void;
  increment(payload?: Record<string, unknown>): void;
  stop(): void;
}

const silent: Progress = { start: () => undefined, increment: () => undefined, stop: () => undefined };

/**
 * A bar on stderr, only when stderr is a terminal: piped or in CI the bar's redraws would be
 * noise, and the command prints its plain summary instead. `format` uses cli-progress's
 * tokens ({bar}, {value}, {total}, {eta_formatted}, …) and the payload's names.
 */
export function progressBar(format: string, enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!enabled || !stream.isTTY) return silent;
  const bar = new cliProgress.SingleBar(
    { format, stream, hideCursor: true, etaBuffer: 200, fps: 10, barsize: 30 },
    cliProgress.Presets.shades_classic,
  );
  return {
    start: (total, payload) => { bar.start(total, 0, payload); },
    increment: (payload) => { bar.increment(1, payload); },
    stop: () => { bar.stop(); },
  };
}
