import { createHash } from 'node:crypto';
import { APIConnectionError, APIError, type AgentCreate, AuthenticationError, ConflictError, type Mandate, PermissionDeniedError } from '@mandate/sdk';
import { reportOf } from '../errors.js';
import type { Progress } from '../io/progress.js';
import type { Row } from './rows.js';

export interface RowFailure {
  line: number;
  name: string | null;
  status: number | null;
  code: string | null;
  error: string;
}

export interface ImportSummary {
  file: string;
  format: string;
  rows: number;
  created: number;
  skipped: number;
  failed: number;
  seconds: number;
  failures: RowFailure[];
}

export interface ImportPlan {
  create: { line: number; body: AgentCreate }[];
  /** Rows whose name is already a live agent, or repeats an earlier row of the file. */
  skipped: { line: number; name: string; reason: string }[];
  invalid: RowFailure[];
}

/**
 * Decides what to create: the names of the organization's live agents are listed once
 * (decommissioned agents free their names), and only rows with a new name are sent.
 */
export async function planImport(client: Mandate, rows: readonly Row[]): Promise<ImportPlan> {
  const existing = new Set<string>();
  for await (const agent of client.agents.list({ limit: 100 })) if (agent.status !== 'decommissioned') existing.add(agent.name);
  const plan: ImportPlan = { create: [], skipped: [], invalid: [] };
  const firstLine = new Map<string, number>();
  for (const row of rows) {
    if (!('body' in row)) {
      plan.invalid.push({ line: row.line, name: row.name, status: null, code: 'INVALID_ROW', error: row.error });
      continue;
    }
    const { name } = row.body;
    const earlier = firstLine.get(name);
    if (existing.has(name)) plan.skipped.push({ line: row.line, name, reason: 'exists' });
    else if (earlier !== undefined) plan.skipped.push({ line: row.line, name, reason: `same name as line ${earlier}` });
    else {
      firstLine.set(name, row.line);
      plan.create.push(row);
    }
  }
  return plan;
}

/**
 * One Idempotency-Key per row, derived from the organization and the row itself: a re-run
 * that retries a create whose answer was lost gets the first answer back, not a second agent.
 */
export function idempotencyKeyOf(organization: string | undefined, body: AgentCreate): string {
  const digest = createHash('sha256').update(JSON.stringify([organization ?? '', body])).digest('hex');
  return `mandate-cli-import-${digest.slice(0, 40)}`;
}

/** Failures that would be the same for every row: stop at once instead of failing thousands. */
const isFatal = (error: unknown): boolean => error instanceof AuthenticationError || error instanceof PermissionDeniedError || (error instanceof APIConnectionError);

export async function runImport(
  client: Mandate,
  plan: ImportPlan,
  options: { organization: string | undefined; concurrency: number; progress: Progress },
): Promise<{ created: number; lateSkips: number; failures: RowFailure[] }> {
  let created = 0;
  let lateSkips = 0;
  const failures: RowFailure[] = [];
  let fatal: unknown;
  let next = 0;
  options.progress.start(plan.create.length, { created: 0, failed: 0 });

  const worker = async (): Promise<void> => {
    while (fatal === undefined && next < plan.create.length) {
      const row = plan.create[next++];
      if (row === undefined) break;
      try {
        await client.agents.create(row.body, { idempotencyKey: idempotencyKeyOf(options.organization, row.body) });
        created += 1;
      } catch (error) {
        if (isFatal(error)) {
          fatal ??= error;
          break;
        }
        // Someone else registered the name since the list was read: already there, as wanted.
        if (error instanceof ConflictError && error.code === 'AGENT_NAME_TAKEN') lateSkips += 1;
        else {
          const report = reportOf(error);
          failures.push({
            line: row.line,
            name: row.body.name,
            status: error instanceof APIError ? error.status : null,
            code: report.code ?? null,
            error: [report.detail ?? report.message, ...(report.errors ?? []).map((e) => `${e.field}: ${e.message}`)].join('; '),
          });
        }
      }
      options.progress.increment({ created, failed: failures.length });
    }
  };

  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    options.progress.stop();
  }
  if (fatal !== undefined) throw fatal as Error;
  failures.sort((a, b) => a.line - b.line);
  return { created, lateSkips, failures };
}
