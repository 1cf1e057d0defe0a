import { type Command, Option } from 'commander';
import { CliError, usageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { Context, type ContextOptions } from '../context.js';
import { confirm, interactive } from '../io/prompt.js';

/**
 * Wraps a command's work: builds its Context from the parsed command line and hands it the
 * options and the positional arguments. Errors propagate to main.ts, which prints them.
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- O names the command's options for its work function
export function run<O extends object = Record<string, never>>(work: (ctx: Context, opts: O, args: string[]) => Promise<void>, contextOptions?: ContextOptions) {
  return async function (this: Command): Promise<void> {
    const ctx = Context.of(this, contextOptions);
    // Every argument here is a plain string (none is variadic or parsed into anything else).
    const args = (this.processedArgs as (string | undefined)[]).map((arg) => arg ?? '');
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- commander types options loosely; each command names its own shape
    await work(ctx, this.opts() as O, args);
  };
}

/** Repeatable options: `--scope a --scope b`. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A list given with commas or spaces, as in `--scopes "agents:read, audit:read"`. */
export const splitList = (value: string): string[] =>
  value
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part !== '');

/** Positive whole numbers for --limit and friends. */
export function positiveInt(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 1) throw usageError(`${flag} must be a whole number of at least 1, not "${value}".`);
    return parsed;
  };
}

/**
 * An option with a fixed set of values: commander checks it before anything is sent, lists
 * the values in --help, and the completion scripts offer them.
 */
export const choice = (flags: string, description: string, values: readonly string[]): Option => new Option(flags, description).choices(values);

/** A JSON object given on the command line (--metadata '{"team":"ops"}'). */
export function jsonObject(flag: string) {
  return (value: string): Record<string, unknown> => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw usageError(`${flag} must be a JSON object, such as '{"team":"ops"}'.`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usageError(`${flag} must be a JSON object.`);
    return parsed as Record<string, unknown>;
  };
}

/** Metadata: a JSON object whose values are strings, as the API stores it. */
export function metadataJson(flag: string) {
  const asObject = jsonObject(flag);
  return (value: string): Record<string, string> => {
    const parsed = asObject(value);
    for (const [key, inner] of Object.entries(parsed)) if (typeof inner !== 'string') throw usageError(`${flag}: the value of "${key}" must be a string.`);
    return parsed as Record<string, string>;
  };
}

/** `key=value` pairs, repeatable (--condition sub=repo:acme/*). */
export function keyValues(flag: string, pairs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw usageError(`${flag} takes KEY=VALUE, not "${pair}".`);
    out[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return out;
}

/** For nullable text fields: an empty value clears the field (sends null). */
export const orNull = (value: string): string | null => (value === '' ? null : value);

/** Only the fields that were given, so an update changes nothing else. */
export function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

/** Collects a list's items over pages, up to `limit` when given. */
export async function collectItems<T>(items: AsyncIterable<T>, limit?: number): Promise<T[]> {
  const out: T[] = [];
  if (limit !== undefined && limit <= 0) return out;
  for await (const item of items) {
    out.push(item);
    if (limit !== undefined && out.length >= limit) break;
  }
  return out;
}

/** The page size to ask for: the API's largest (100), or less when fewer are wanted. */
export const pageSize = (limit: number | undefined): number => Math.min(limit ?? 100, 100);

/**
 * Final or destructive actions ask first at a terminal; a script must say --yes, so that
 * a missing confirmation never hangs it or passes silently.
 */
export async function confirmAction(ctx: Context, what: string, yes: boolean | undefined): Promise<void> {
  if (yes === true) return;
  if (!interactive()) throw usageError(`${what}: add --yes to confirm (no terminal to ask at).`);
  if (!(await confirm(`${what}?`))) throw new CliError('Cancelled.', ExitCode.usage);
  ctx.debug?.('confirmed at the terminal');
}

export const yesOption = ['-y, --yes', 'do not ask for confirmation'] as const;
export const limitOption = ['--limit <n>', 'at most this many items (default: all, fetched 100 a page)'] as const;
