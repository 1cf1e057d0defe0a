import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI_JS, type Sandbox } from './cli.js';

/**
 * A terminal for a test, as a person would have one: a tmux server on its own socket (so no
 * other tmux is touched), one detached session per command, read with capture-pane.
 */
export class Terminal {
  /** In the sandbox, so it goes with it. */
  private readonly socket: string;

  constructor(private readonly box: Sandbox) {
    this.socket = path.join(box.home, 'tmux.sock');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8' });
  }

  /**
   * Runs `mandate ARGS` in a new session of a wide terminal. The script keeps the pane open
   * after the command ends and prints its exit status, so the end can be read too.
   */
  start(name: string, args: readonly string[], env: Record<string, string> = {}): void {
    const script = path.join(this.box.home, `${name}.sh`);
    const exports = Object.entries({ ...this.box.env, ...env }).map(([key, value]) => `export ${key}='${value.replace(/'/g, `'\\''`)}'`);
    const quoted = args.map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`).join(' ');
    // Ctrl-C goes to the whole foreground group: the shell traps it (and so survives to print
    // the status) while the CLI gets the default SIGINT behaviour it handles itself.
    writeFileSync(script, `trap : INT\n${exports.join('\n')}\n"${process.execPath}" "${CLI_JS}" ${quoted}\necho "[exit $?]"\nsleep 600\n`, { mode: 0o700 });
    this.tmux('new-session', '-d', '-s', name, '-x', '200', '-y', '50', `sh ${script}`);
  }

  /** The pane's text; with `escapes`, its colour codes too. */
  screen(name: string, escapes = false): string {
    return this.tmux('capture-pane', '-p', '-J', ...(escapes ? ['-e'] : []), '-t', name);
  }

  keys(name: string, ...keys: string[]): void {
    this.tmux('send-keys', '-t', name, ...keys);
  }

  /** Polls the screen until `test` passes; resolves with the time it took, in ms. */
  async waitFor(name: string, test: (screen: string) => boolean, timeoutMs = 15_000, everyMs = 20): Promise<number> {
    const started = performance.now();
    for (;;) {
      const screen = this.screen(name);
      if (test(screen)) return performance.now() - started;
      if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting on the terminal; it shows:\n${screen}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // no server left: nothing to close
    }
  }
}
