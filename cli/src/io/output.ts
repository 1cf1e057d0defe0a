import Table from 'cli-table3';
import YAML from 'yaml';
import type { OutputFormat } from '../settings/config-file.js';
import { type Colors, statusColor } from './colors.js';
import { redactText } from './redact.js';

/** One column of a list table. `status` colours the value by meaning (active green, …). */
export interface Column<T> {
  header: string;
  value: (item: T) => unknown;
  status?: boolean;
}

export interface Streams {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** A table cell: nothing as `-`, lists joined, objects as compact JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map((inner) => (typeof inner === 'object' ? JSON.stringify(inner) : String(inner))).join(', ');
  if (typeof value === 'object') return Object.keys(value).length === 0 ? '-' : JSON.stringify(value);
  return String(value as string | number | boolean);
}

/**
 * Everything a command prints goes through here. Data goes to stdout in the chosen format:
 * `json` and `yaml` print the API objects exactly as the SDK returned them (lists as
 * arrays), `table` is for people. Notes, warnings and progress go to stderr, so that
 * stdout stays parseable.
 */
export class Output {
  constructor(
    readonly format: OutputFormat,
    readonly colors: Colors,
    readonly errorColors: Colors,
    private readonly streams: Streams,
  ) {}

  /** Data with no table view of its own (or a table view done by the caller). */
  data(value: unknown): void {
    if (this.format === 'yaml') this.write(YAML.stringify(value));
    else this.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  list<T>(items: readonly T[], columns: readonly Column<T>[]): void {
    if (this.format !== 'table') {
      this.data(items);
      return;
    }
    const table = this.newTable(columns.map((column) => this.colors.bold(column.header)));
    for (const item of items) {
      table.push(columns.map((column) => {
        const text = cellText(column.value(item));
        return column.status === true ? statusColor(this.colors, text) : text;
      }));
    }
    this.write(`${table.toString()}\n`);
    if (items.length === 0) this.note('(none)');
  }

  /** One object: a field per line in a table, the object itself otherwise. */
  object(item: object, statusFields: readonly string[] = ['status']): void {
    if (this.format !== 'table') {
      this.data(item);
      return;
    }
    const table = this.newTable();
    for (const [key, value] of Object.entries(item)) {
      const text = cellText(value);
      table.push([this.colors.bold(key), statusFields.includes(key) ? statusColor(this.colors, text) : text]);
    }
    this.write(`${table.toString()}\n`);
  }

  /** One line of a stream (`audit tail`, `audit export`): compact JSON per line, YAML documents, or text. */
  streamItem(value: unknown, text: string): void {
    if (this.format === 'json') this.write(`${JSON.stringify(value)}\n`);
    else if (this.format === 'yaml') this.write(`---\n${YAML.stringify(value)}`);
    else this.write(`${text}\n`);
  }

  /** A line on stdout as is: the one thing a command exists to print (a token, a script). */
  raw(text: string): void {
    this.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** Information for the person, on stderr. */
  note(message: string): void {
    this.streams.stderr.write(`${this.errorColors.dim(redactText(message))}\n`);
  }

  warn(message: string): void {
    this.streams.stderr.write(`${this.errorColors.yellow('warning:')} ${redactText(message)}\n`);
  }

  success(message: string): void {
    this.streams.stderr.write(`${this.errorColors.green('✓')} ${redactText(message)}\n`);
  }

  private write(text: string): void {
    this.streams.stdout.write(text);
  }

  private newTable(head: string[] = []): Table.Table {
    // cli-table3 colours with its own library when asked; colours come from picocolors here.
    return new Table({ head, style: { head: [], border: [] } });
  }
}
