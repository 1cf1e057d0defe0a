import { CommanderError } from 'commander';
import { currentErrorFormat } from './context.js';
import { exitCodeOf, reportOf } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { colorsEnabled, makeColors } from './io/colors.js';
import { buildProgram } from './program.js';

/** Prints a failure on stderr: the problem's code, detail and request id; JSON for scripts. */
function printError(error: unknown): void {
  const report = reportOf(error);
  if (currentErrorFormat() !== 'table') {
    process.stderr.write(`${JSON.stringify({ error: report })}\n`);
    return;
  }
  const c = makeColors(colorsEnabled(process.stderr, !process.argv.includes('--no-color')));
  const head = [report.code, report.status === undefined || report.status === 0 ? undefined : `(${report.status})`].filter(Boolean).join(' ');
  const lines = [`${c.red('error:')} ${head === '' ? '' : `${c.bold(head)} `}${report.detail ?? report.title ?? report.message}`];
  for (const fieldError of report.errors ?? []) lines.push(`  ${fieldError.field}: ${fieldError.message}`);
  if (report.requestId !== undefined) lines.push(c.dim(`  request id: ${report.requestId}`));
  if (report.hint !== undefined) lines.push(c.dim(`  ${report.hint}`));
  process.stderr.write(`${lines.join('\n')}\n`);
}

/** Waits until what was written to stdout has left the process (a pipe may be asynchronous). */
function drained(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => {
    if (stream.writableLength === 0) resolve();
    else stream.write('', () => { resolve(); });
  });
}

export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  let code: number;
  try {
    await program.parseAsync([...argv]);
    code = typeof process.exitCode === 'number' ? process.exitCode : ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already. Help asked
      // for is a success; help shown because a subcommand is missing is a usage error.
      code = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    } else {
      printError(error);
      code = exitCodeOf(error);
    }
  }
  await drained(process.stdout);
  return code;
}
