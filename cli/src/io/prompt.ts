import { createInterface } from 'node:readline';

/** Whether a person can answer: both ends of the terminal are interactive. */
export const interactive = (): boolean => (process.stdin.isTTY as boolean | undefined) === true && (process.stderr.isTTY as boolean | undefined) === true;

/** Reads one line without echoing it (a token typed or pasted at a terminal). */
export function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // readline echoes through this one method: let the question through, then nothing.
    const internal = rl as unknown as { _writeToOutput: (text: string) => void };
    const write = internal._writeToOutput.bind(rl);
    let muted = false;
    internal._writeToOutput = (text) => {
      if (!muted) write(text);
    };
    rl.question(question, (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer.trim());
    });
    muted = true;
  });
}

export function confirm(question: string): Promise<boolean> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    rl.question(`${question} [y/N] `, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}
