import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import type { AgentCreate } from '@mandate/sdk';
import { parse } from 'csv-parse/sync';
import { CliError, usageError } from '../errors.js';

/** One agent to import, or the reason its row cannot be used; `line` is 1-based in the file. */
export type Row = { line: number; body: AgentCreate } | { line: number; name: string | null; error: string };

export type ImportFormat = 'csv' | 'jsonl';

/** CSV columns: the API's field names, plus a few short aliases people write by hand. */
const COLUMN_ALIASES: Record<string, keyof AgentCreate> = {
  name: 'name',
  agenttype: 'agentType',
  type: 'agentType',
  description: 'description',
  version: 'version',
  owner: 'owner',
  deploymentenv: 'deploymentEnv',
  env: 'deploymentEnv',
  allowedscopes: 'allowedScopes',
  scopes: 'allowedScopes',
  capabilities: 'capabilities',
  metadata: 'metadata',
  trustlevel: 'trustLevel',
  dpoprequired: 'dpopRequired',
  public: 'public',
};

const LIST_FIELDS = new Set<keyof AgentCreate>(['allowedScopes', 'capabilities']);
const BOOLEAN_FIELDS = new Set<keyof AgentCreate>(['dpopRequired', 'public']);

export function formatOf(path: string, text: string, given: ImportFormat | undefined): ImportFormat {
  if (given !== undefined) return given;
  const extension = extname(path).toLowerCase();
  if (extension === '.csv') return 'csv';
  if (['.jsonl', '.ndjson', '.json'].includes(extension)) return 'jsonl';
  return text.trimStart().startsWith('{') ? 'jsonl' : 'csv';
}

/** A CSV cell into the field's type; lists split on commas, semicolons or spaces. */
function cellValue(field: keyof AgentCreate, cell: string): unknown {
  if (LIST_FIELDS.has(field)) return cell.split(/[\s,;]+/).filter((part) => part !== '');
  if (BOOLEAN_FIELDS.has(field)) {
    if (/^(true|yes|1)$/i.test(cell)) return true;
    if (/^(false|no|0)$/i.test(cell)) return false;
    throw new Error(`${field} must be true or false, not "${cell}"`);
  }
  if (field === 'metadata') {
    const parsed: unknown = JSON.parse(cell);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('metadata must be a JSON object');
    return parsed;
  }
  return cell;
}

/** Checked here so a bad row fails alone, with its line, instead of as a 400 from the server. */
function checkedBody(value: unknown): AgentCreate {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
  const body = value as Record<string, unknown>;
  if (typeof body.name !== 'string' || body.name.trim() === '') throw new Error('no name');
  if (typeof body.agentType !== 'string' || body.agentType === '') throw new Error('no agentType');
  return body as unknown as AgentCreate;
}

const nameOf = (value: unknown): string | null => {
  if (typeof value !== 'object' || value === null) return null;
  const name = (value as Record<string, unknown>).name;
  return typeof name === 'string' ? name : null;
};

function csvRows(text: string, path: string): Row[] {
  const records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false, info: true }) as unknown as { record: string[]; info: { lines: number } }[];
  const header = records.shift();
  if (header === undefined) throw usageError(`${path} is empty.`);
  const fields = header.record.map((column) => {
    const field = COLUMN_ALIASES[column.trim().toLowerCase().replace(/[_\s-]/g, '')];
    if (field === undefined) throw usageError(`${path}: unknown column "${column}".`, `Columns: ${[...new Set(Object.values(COLUMN_ALIASES))].join(', ')}.`);
    return field;
  });
  if (!fields.includes('name')) throw usageError(`${path}: the header has no name column.`);
  return records.map(({ record, info }) => {
    const body: Record<string, unknown> = {};
    try {
      fields.forEach((field, index) => {
        const cell = (record[index] ?? '').trim();
        if (cell !== '') body[field] = cellValue(field, cell);
      });
      return { line: info.lines, body: checkedBody(body) };
    } catch (error) {
      return { line: info.lines, name: nameOf(body), error: error instanceof Error ? error.message : String(error) };
    }
  });
}

function jsonLines(text: string): Row[] {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    if (content.trim() === '') return;
    const line = index + 1;
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch {
      rows.push({ line, name: null, error: 'not valid JSON' });
      return;
    }
    try {
      rows.push({ line, body: checkedBody(value) });
    } catch (error) {
      rows.push({ line, name: nameOf(value), error: error instanceof Error ? error.message : String(error) });
    }
  });
  return rows;
}

/** Every row of the file; a file that cannot be read or whose CSV header is wrong is a usage error. */
export function readRows(path: string, given?: ImportFormat): { format: ImportFormat; rows: Row[] } {
  let text: string;
  try {
    text = readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch {
    throw usageError(`Cannot read ${path}.`);
  }
  const format = formatOf(path, text, given);
  try {
    return { format, rows: format === 'csv' ? csvRows(text, path) : jsonLines(text) };
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof Error && 'code' in error && String(error.code).startsWith('CSV_')) throw usageError(`${path}: ${error.message}`);
    throw error;
  }
}
