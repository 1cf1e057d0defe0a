import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { type AuditEvent, type ListAuditEventsParams, type StreamEventsParams, isOverflow } from '@mandate/sdk';
import { ExitCode } from '../exit-codes.js';
import type { Context } from '../context.js';
import { statusColor } from '../io/colors.js';
import type { Column } from '../io/output.js';
import { progressBar } from '../io/progress.js';
import { collect, collectItems, defined, choice, pageSize, positiveInt, run } from './common.js';

const OUTCOMES = ['success', 'failure'] as const;
type Outcome = (typeof OUTCOMES)[number];

const actorText = (event: AuditEvent): string => `${event.actor.type}${event.actor.id === null ? '' : `:${event.actor.id}`}`;
const targetText = (event: AuditEvent): string => (event.target === null ? '-' : `${event.target.type}:${event.target.id}`);

const eventColumns: Column<AuditEvent>[] = [
  { header: 'TIME', value: (e) => e.occurredAt },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'OUTCOME', value: (e) => e.outcome, status: true },
  { header: 'ACTOR', value: actorText },
  { header: 'TARGET', value: targetText },
  { header: 'ID', value: (e) => e.id },
];

interface FilterOptions {
  action?: string[];
  agent?: string;
  outcome?: Outcome;
  since?: string;
  until?: string;
  limit?: number;
}

function withFilters(command: Command, options: { range: boolean }): Command {
  command
    .option('--action <action>', 'only this action (agent.created; agent.* for a whole resource); repeatable for tail', collect)
    .option('--agent <agentId>', 'only events where this agent is the actor or the target')
    .addOption(choice('--outcome <outcome>', OUTCOMES.join(' or '), OUTCOMES));
  if (options.range) command.option('--since <time>', 'from this time (RFC 3339)').option('--until <time>', 'before this time (RFC 3339)');
  return command;
}

function listParams(opts: FilterOptions): ListAuditEventsParams {
  // The list endpoint takes one action pattern; the event stream takes several.
  return defined({ agentId: opts.agent, action: opts.action?.[0], outcome: opts.outcome, since: opts.since, until: opts.until });
}

/** One event as a line of text, for tail at a terminal. */
function eventLine(ctx: Context, event: AuditEvent): string {
  const { colors } = ctx.out;
  return [colors.dim(event.occurredAt), colors.bold(event.action), statusColor(colors, event.outcome), actorText(event), '→', targetText(event), colors.dim(event.id)].join('  ');
}

interface TailOptions extends FilterOptions {
  after?: string;
  count?: number;
}

/**
 * Follows the organization's audit trail over the SDK's event stream, which reconnects and
 * resumes by itself (Last-Event-ID): no event is missed or repeated across a reconnect.
 */
async function tail(ctx: Context, opts: TailOptions): Promise<void> {
  const params: StreamEventsParams = defined({ action: opts.action, agentId: opts.agent, outcome: opts.outcome });
  // A follower is meant to outlive server restarts: it keeps reconnecting, with backoff.
  const stream = ctx.client().events.stream(params, { maxRetries: 1_000_000, ...(opts.after === undefined ? {} : { lastEventId: opts.after }) });
  const stop = (): void => {
    stream.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The SDK exposes each connection's response; a new one means connected (again).
  let seen: unknown;
  const watcher = setInterval(() => {
    const current = stream.response;
    if (current === undefined || current === seen) return;
    ctx.out.note(seen === undefined ? `Connected to ${ctx.settings.baseURL}; waiting for events (Ctrl-C to stop).` : 'Reconnected; resumed after the last event.');
    seen = current;
  }, 50);
  let received = 0;
  try {
    for await (const message of stream) {
      if (isOverflow(message)) {
        ctx.out.warn('Fell behind the stream; resuming after the last event shown.');
        continue;
      }
      ctx.out.streamItem(message.data, eventLine(ctx, message.data));
      received += 1;
      if (opts.count !== undefined && received >= opts.count) break;
    }
  } finally {
    clearInterval(watcher);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
}

interface ExportOptions extends FilterOptions {
  out?: string;
  progress: boolean;
}

/** JSON lines, one event each, oldest first; to a file (or stdout) with a bar on stderr. */
async function exportEvents(ctx: Context, opts: ExportOptions): Promise<void> {
  const client = ctx.client({ maxRetries: 6 });
  const params = listParams(opts);
  const filtered = Object.keys(params).length > 0;
  // Unfiltered, the chain's length (which verify counts) is the number to expect.
  const total = opts.limit ?? (filtered ? undefined : (await client.auditEvents.verify()).eventsChecked);
  const progress = progressBar(total === undefined ? 'export {value} events | {duration_formatted}' : 'export [{bar}] {value}/{total} events | eta {eta_formatted}', opts.progress && opts.out !== undefined && opts.out !== '-');
  const toFile = opts.out !== undefined && opts.out !== '-';
  const sink: NodeJS.WritableStream = toFile ? createWriteStream(opts.out ?? '', { mode: 0o600 }) : process.stdout;
  let written = 0;
  progress.start(total ?? 0);
  try {
    for await (const event of client.auditEvents.list({ ...params, limit: pageSize(opts.limit) })) {
      if (!sink.write(`${JSON.stringify(event)}\n`)) await new Promise((resolve) => sink.once('drain', resolve));
      written += 1;
      progress.increment();
      if (opts.limit !== undefined && written >= opts.limit) break;
    }
  } finally {
    progress.stop();
    if (toFile) await new Promise<void>((resolve, reject) => { sink.end(() => { resolve(); }); sink.once('error', reject); });
  }
  if (toFile) ctx.out.success(`Wrote ${written} events to ${opts.out ?? ''}.`);
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit trail: list, verify, follow live, export');

  withFilters(audit.command('list').description('list audit events, oldest first'), { range: true })
    .option('--limit <n>', 'at most this many (default 100; `audit export` writes them all)', positiveInt('--limit'), 100)
    .action(run<FilterOptions>(async (ctx, opts) => {
      ctx.out.list(await collectItems(ctx.client().auditEvents.list({ ...listParams(opts), limit: pageSize(opts.limit) }), opts.limit), eventColumns);
    }));

  audit
    .command('get')
    .description('show one audit event')
    .argument('<eventId>', 'event id')
    .action(run(async (ctx, _opts, [eventId = '']) => {
      ctx.out.object(await ctx.client().auditEvents.get(eventId), ['outcome']);
    }));

  audit
    .command('verify')
    .description("recompute the organization's hash chain (exit 6 when it is broken)")
    .action(run(async (ctx) => {
      const result = await ctx.client().auditEvents.verify();
      ctx.out.object(result, ['intact']);
      if (!result.intact) process.exitCode = ExitCode.failures;
    }));

  withFilters(audit.command('tail').description('follow audit events live as they are committed; reconnects and resumes by itself'), { range: false })
    .option('--after <eventId>', 'start after this event (replaying what followed it)')
    .option('--count <n>', 'stop after this many events', positiveInt('--count'))
    .action(run<TailOptions>(tail));

  withFilters(audit.command('export').description('write audit events as JSON lines, oldest first, with a progress bar'), { range: true })
    .option('--out <file>', 'the file to write (mode 0600; default standard output)')
    .option('--limit <n>', 'at most this many events', positiveInt('--limit'))
    .option('--no-progress', 'no progress bar')
    .action(run<ExportOptions>(exportEvents));
}
