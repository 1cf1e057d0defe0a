import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { type ImportFormat, readRows } from '../import/rows.js';
import { type ImportSummary, planImport, runImport } from '../import/run.js';
import { progressBar } from '../io/progress.js';
import { choice, positiveInt, run } from './common.js';

interface ImportOptions {
  format?: ImportFormat;
  concurrency: number;
  dryRun?: boolean;
  progress: boolean;
}

const MAX_CONCURRENCY = 32;

export function registerImport(agents: Command): void {
  agents
    .command('import')
    .description('register agents from a CSV file (header row) or JSON lines; idempotent by name: only agents whose name is new are created')
    .argument('<file>', 'the file (- for standard input)')
    .addOption(choice('--format <format>', 'csv or jsonl (default: from the extension, else the content)', ['csv', 'jsonl'] as const))
    .option('--concurrency <n>', `requests at a time (1-${MAX_CONCURRENCY})`, positiveInt('--concurrency'), 4)
    .option('--dry-run', 'show what would be created, create nothing')
    .option('--no-progress', 'no progress bar, even at a terminal')
    .addHelpText(
      'after',
      `
CSV columns are the API's field names (name, agentType, description, version, owner,
deploymentEnv, allowedScopes, capabilities, metadata, trustLevel, dpopRequired, public; also
type, env and scopes). Lists are separated by spaces, commas or semicolons; metadata is a
JSON object. JSON lines hold one agent per line with the same fields.

Exit status 6 when any row failed; the summary lists each failed row with its line.`,
    )
    .action(run<ImportOptions>(async (ctx, opts, [file = '']) => {
      if (opts.concurrency > MAX_CONCURRENCY) throw new CliError(`--concurrency is at most ${MAX_CONCURRENCY}.`);
      const started = performance.now();
      const { format, rows } = readRows(file, opts.format);
      // Rate limits answer 429 with Retry-After: a bulk job waits and goes on rather than fail.
      const client = ctx.client({ maxRetries: 6 });
      const plan = await planImport(client, rows);
      const base = { file, format, rows: rows.length, skipped: plan.skipped.length };
      if (opts.dryRun === true) {
        const wouldCreate = plan.create.map((row) => ({ line: row.line, name: row.body.name }));
        if (ctx.out.format === 'table') ctx.out.note(`Dry run: ${wouldCreate.length} to create, ${plan.skipped.length} already there, ${plan.invalid.length} invalid.`);
        ctx.out.data({ ...base, wouldCreate, invalid: plan.invalid });
        if (plan.invalid.length > 0) process.exitCode = ExitCode.failures;
        return;
      }
      const progress = progressBar(`import [{bar}] {value}/{total} | created {created} | failed {failed} | eta {eta_formatted}`, opts.progress);
      const outcome = await runImport(client, plan, { organization: ctx.settings.organization, concurrency: opts.concurrency, progress });
      const failures = [...plan.invalid, ...outcome.failures].sort((a, b) => a.line - b.line);
      const summary: ImportSummary = {
        file,
        format,
        rows: rows.length,
        created: outcome.created,
        skipped: plan.skipped.length + outcome.lateSkips,
        failed: failures.length,
        seconds: Math.round((performance.now() - started) / 100) / 10,
        failures,
      };
      if (ctx.out.format === 'table') {
        ctx.out.raw(`${file}: ${summary.rows} rows, ${summary.created} created, ${summary.skipped} skipped (name already registered), ${summary.failed} failed, in ${summary.seconds} s`);
        if (failures.length > 0) ctx.out.list(failures, [
          { header: 'LINE', value: (f) => f.line },
          { header: 'NAME', value: (f) => f.name },
          { header: 'CODE', value: (f) => f.code },
          { header: 'ERROR', value: (f) => f.error },
        ]);
      } else ctx.out.data(summary);
      if (failures.length > 0) process.exitCode = ExitCode.failures;
    }));
}
