// The scale bench's comparison with the smallest size, its stdout table, and
// bench/results/scale/README.md (rebuilt from every JSON file there on each run).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { provenanceLines } from '../report.mjs';

const ratio = (a, b) => (b > 0 ? Math.round((a / b) * 1000) / 1000 : null);
const fmt = (n) => (n === null || n === undefined ? '—' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const mb = (bytes) => fmt(Math.round((Number(bytes) / 2 ** 20) * 10) / 10);
const cores = (c) => (c === null ? '—' : `${c.server}/${c.loadGenerator}/${c.postgres}/${c.redis}/${c.other}`);
const CALLS = [['issuance', 'Token issuance'], ['introspection', 'Introspection']];

/**
 * Each size's req/s and p99 against the first (smallest) size's, and the goal: at the largest
 * size, req/s at least (1 − goal) and p99 at most (1 + goal) times the smallest size's.
 */
export function compare(sizes, goal) {
  const [base] = sizes;
  const perSize = sizes.map((s) => ({
    agents: s.agents,
    ...Object.fromEntries(
      CALLS.map(([call]) => {
        const run = s[call];
        return [call, { requestsPerSecond: run.requestsPerSecond.mean, rpsRatio: ratio(run.requestsPerSecond.mean, base[call].requestsPerSecond.mean), p99: run.latencyMs.p99, p99Ratio: ratio(run.latencyMs.p99, base[call].latencyMs.p99) }];
      }),
    ),
  }));
  const last = perSize.at(-1);
  const met = (call) => last[call].rpsRatio !== null && last[call].rpsRatio >= 1 - goal && last[call].p99Ratio !== null && last[call].p99Ratio <= 1 + goal;
  return {
    perSize,
    goal: {
      within: goal,
      baseAgents: base.agents,
      largestAgents: last.agents,
      issuance: met('issuance'),
      introspection: met('introspection'),
      met: met('issuance') && met('introspection'),
    },
  };
}

const verdictLine = (r) => {
  const g = r.comparison.goal;
  const word = (ok) => (ok ? 'within' : '**outside**');
  return `Goal (${fmt(g.largestAgents)} agents within ${g.within * 100} % of ${fmt(g.baseAgents)} in req/s and p99): issuance ${word(g.issuance)}, introspection ${word(g.introspection)}`;
};

/** The stdout summary: one line per size and call. */
export function scaleTable(r) {
  const head = ['agents', 'call', 'req/s', '× base', 'p50', 'p90', 'p99', '× base', 'err/to/non2xx/body', 'CPU srv/gen/pg/redis/other', 'seeded in'];
  const rows = [head];
  r.sizes.forEach((s, i) => {
    for (const [call, name] of CALLS) {
      const run = s[call];
      const c = r.comparison.perSize[i][call];
      rows.push([fmt(s.agents), name + (run.noisy ? ' !' : ''), fmt(run.requestsPerSecond.mean), c.rpsRatio, run.latencyMs.p50, run.latencyMs.p90, run.latencyMs.p99, c.p99Ratio,
        `${run.errors}/${run.timeouts}/${run.non2xx}/${run.mismatches}`, cores(run.cpu), call === 'issuance' ? `${s.seeding.insertSeconds} s` : '']);
    }
  });
  const widths = head.map((_, k) => Math.max(...rows.map((row) => String(row[k]).length)));
  const line = (row) => row.map((v, k) => (k < 2 ? String(v).padEnd(widths[k]) : String(v).padStart(widths[k]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', verdictLine(r).replace(/\*\*/g, '')].join('\n');
}

function runHeader(r) {
  return [
    `### ${r.date} — ${r.machine.hostname}`,
    '',
    ...provenanceLines(r),
    `- One server process, DATABASE_POOL_SIZE=${r.server.DATABASE_POOL_SIZE}; ${r.load.connections} connections, ${r.load.warmupSeconds} s warm-up + ${r.load.durationSeconds} s measured per call and size`,
    `- Seeding: ${r.seedingMethod.api} through the API; ${r.seedingMethod.bulk}`,
    `- Spread: ${r.load.spread}; ${fmt(r.sizes[0].introspectedTokens.count)} tokens introspected per size`,
    `- Machine before the bench: ${r.machineBusyBeforeCores ?? '?'} cores busy${r.noisy ? '; **noisy (⚠️): other processes used the cores during some runs, those figures are low estimates**' : ''}`,
    `- ${r.verdict.clean ? 'Zero errors, timeouts, non-2xx and wrong bodies' : '**Errors, timeouts, non-2xx or wrong bodies seen**'}. ${verdictLine(r)}`,
    '',
  ].join('\n');
}

function mainTable(r) {
  const lines = [
    '| agents | call | req/s | × smallest | p50 / p90 / p99 ms | p99 × smallest | errors / timeouts / non-2xx / wrong body | CPU cores srv/gen/pg/redis/other | seeding (insert + ANALYZE) |',
    '| ---: | --- | ---: | ---: | --- | ---: | --- | --- | --- |',
  ];
  r.sizes.forEach((s, i) => {
    for (const [call, name] of CALLS) {
      const run = s[call];
      const c = r.comparison.perSize[i][call];
      const seeding = call === 'issuance' ? `+${fmt(s.seeding.added)} in ${s.seeding.insertSeconds} + ${s.seeding.analyzeSeconds} s` : '';
      lines.push(`| ${fmt(s.agents)} | ${name}${run.noisy ? ' ⚠️' : ''} | ${fmt(run.requestsPerSecond.mean)} | ${c.rpsRatio} | ${run.latencyMs.p50} / ${run.latencyMs.p90} / ${run.latencyMs.p99} | ${c.p99Ratio} | ${run.errors} / ${run.timeouts} / ${run.non2xx} / ${run.mismatches} | ${cores(run.cpu)} | ${seeding} |`);
    }
  });
  return lines.join('\n');
}

function sizeTables(r) {
  const agents = r.sizes.map((s) => fmt(s.agents));
  const tableNames = [...new Set(r.sizes.flatMap((s) => s.tables.map((t) => t.table)))];
  const tables = [
    `| table (MB: heap + indexes = total; rows, PostgreSQL's estimate) | ${agents.join(' | ')} |`,
    `| --- | ${agents.map(() => '---').join(' | ')} |`,
    ...tableNames.map((name) => `| ${name} | ${r.sizes.map((s) => {
      const t = s.tables.find((x) => x.table === name);
      return t === undefined ? '—' : `${mb(t.heap)} + ${mb(t.indexes)} = ${mb(t.total)}; ${fmt(t.rows)}`;
    }).join(' | ')} |`),
  ];
  const indexNames = [...new Set(r.sizes.flatMap((s) => s.indexes.map((x) => `${x.table}.${x.index}`)))];
  const indexes = [
    `| index (MB) | ${agents.join(' | ')} |`,
    `| --- | ${agents.map(() => '---:').join(' | ')} |`,
    ...indexNames.map((name) => `| ${name} | ${r.sizes.map((s) => {
      const x = s.indexes.find((y) => `${y.table}.${y.index}` === name);
      return x === undefined ? '—' : mb(x.bytes);
    }).join(' | ')} |`),
  ];
  return [...tables, '', ...indexes].join('\n');
}

/** Per call and size, the tables a measured run touched, per 1,000 requests. */
function counterTable(r) {
  const lines = [
    '| agents | call | table | seq scans | rows read by seq scans | index scans | inserts | updates | heap blocks read / hit | index blocks read / hit |',
    '| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |',
  ];
  for (const s of r.sizes) {
    for (const [call, name] of CALLS) {
      for (const { table, per1000Requests: d } of s[call].tables ?? []) {
        lines.push(`| ${fmt(s.agents)} | ${name} | ${table} | ${fmt(d.seq_scan)} | ${fmt(d.seq_tup_read)} | ${fmt(d.idx_scan)} | ${fmt(d.n_tup_ins)} | ${fmt(d.n_tup_upd)} | ${fmt(d.heap_blks_read)} / ${fmt(d.heap_blks_hit)} | ${fmt(d.idx_blks_read)} / ${fmt(d.idx_blks_hit)} |`);
      }
    }
  }
  return lines.join('\n');
}

function planTable(r) {
  const lines = ['| agents | lookup | plan | execution ms | shared blocks hit / read |', '| ---: | --- | --- | ---: | --- |'];
  for (const s of r.sizes) {
    for (const [key, plan] of Object.entries(s.plans).filter(([k]) => k !== 'agentIndex')) {
      lines.push(`| ${fmt(s.agents)} | ${key} | ${plan.nodes.join(' → ')} | ${plan.executionMs} | ${plan.sharedHit} / ${plan.sharedRead} |`);
    }
  }
  return lines.join('\n');
}

/** Rebuilds results/scale/README.md from every run file there, newest first. */
export function writeScaleReadme(dir) {
  const runs = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ ...JSON.parse(readFileSync(path.join(dir, f), 'utf8')), file: f }))
    .filter((r) => r.kind === 'scale' && r.schema === 1)
    .sort((a, b) => (a.date < b.date ? 1 : -1));
  const text = [
    '# Scale results',
    '',
    'Written by `make bench-scale` (`bench/scale.mjs`); one JSON file per run beside this file, and this page',
    'rebuilt from all of them. What is measured and how to read it: [../../README.md](../../README.md#scale-make-bench-scale).',
    'Goal: at 10⁶ agents, requests/s and p99 within 20 % of the figures at 10³.',
    '',
    ...runs.flatMap((r) => [
      runHeader(r),
      mainTable(r),
      '',
      'Redis keys (bench database) after each size: ' + r.sizes.map((s) => `${fmt(s.agents)}: ${fmt(s.redis.keys)} keys, ${mb(s.redis.usedMemoryBytes)} MB`).join('; ') + '.',
      '',
      '#### Table and index sizes after each size\'s load',
      '',
      sizeTables(r),
      '',
      '#### What each measured run did to the tables, per 1,000 requests',
      '',
      'Blocks "read" came from outside shared_buffers (the OS cache or the disk). PostgreSQL publishes counters about once a second, so these are approximate.',
      '',
      counterTable(r),
      '',
      '#### Plans of the token path\'s lookups for one random seeded agent (EXPLAIN ANALYZE, BUFFERS)',
      '',
      planTable(r),
      '',
    ]),
  ].join('\n');
  writeFileSync(path.join(dir, 'README.md'), text);
}
