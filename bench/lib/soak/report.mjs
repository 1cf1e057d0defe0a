// Figures of `make bench-soak`: the line printed per window, and bench/results/soak/README.md,
// rebuilt from every JSON file there (a summary line per run, then per run its verdict, a chart
// of the server's RSS drawn with asciichart, and the table of its windows).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import asciichart from 'asciichart';
import { median } from '../stats.mjs';

const fmt = (n) => (n === null || n === undefined ? '-' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const failures = (w) => w.errors + w.timeouts + w.non2xx + w.mismatches;

/** One window, as the soak prints it while it runs. */
export function windowLine(w) {
  const m = w.memory;
  return (
    `${w.phase === 'warmup' ? 'warm-up ' : 'window  '}${String(w.index + 1).padStart(3)} t=${String(w.atSeconds).padStart(6)} s: ` +
    `${fmt(w.requestsPerSecond)} req/s, p50 ${w.latencyMs.p50} ms, p99 ${w.latencyMs.p99} ms, failures ${failures(w)}; ` +
    `server RSS ${m.server.rssMiB} MiB, heap ${m.server.heapUsedMiB ?? '?'} MiB, CPU ${w.cpu?.server ?? '?'} cores` +
    `${w.noisy ? ` (NOISY: other ${w.cpu.other})` : ''}`
  );
}

/** The server's RSS over every window, one column per window. */
export function rssChart(windows) {
  const series = windows.map((w) => w.memory.server.rssMiB ?? Number.NaN);
  return asciichart.plot(series, { height: 10, format: (x) => `${x.toFixed(1).padStart(7)} MiB` });
}

function verdictText(v) {
  const r = v.rss;
  const heap = v.heapUsed;
  return [
    `- **Server RSS: ${r.verdict}**${r.reason ? ` (${r.reason})` : ''}: slope ${r.slopeMiBPerMinute} MiB/min (threshold ${v.thresholds.slopeMiBPerMinute}), ` +
      `last third ${r.lastThirdMeanMiB} MiB vs first third ${r.firstThirdMeanMiB} MiB (${r.thirdsChangePercent > 0 ? '+' : ''}${r.thirdsChangePercent} %, threshold ${v.thresholds.lastThirdVsFirstThird}), ` +
      `range ${r.minMiB}-${r.maxMiB} MiB over ${r.windows} measured windows`,
    `- V8 heap used (not part of the verdict): slope ${heap.slopeMiBPerMinute} MiB/min, range ${heap.minMiB}-${heap.maxMiB} MiB`,
    `- ${v.clean ? 'Zero errors, timeouts, non-2xx and wrong bodies' : '**Errors, timeouts, non-2xx or wrong bodies seen**'}`,
  ].join('\n');
}

function runHeader(r) {
  const m = r.machine;
  const s = r.settings;
  return [
    `### ${r.date} — ${m.hostname}`,
    '',
    `- Commit \`${m.commitShort ?? 'unknown'}\`${m.workingTreeDirty ? ' (the server or the spec had uncommitted changes)' : ''}; server built ${r.build?.builtAt ?? '?'}${r.build?.stale ? ' (**stale: sources changed after the build**)' : ''}; file \`${r.file}\``,
    `- ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}`,
    `- Node ${m.node}, PostgreSQL ${r.versions.postgres}, Redis ${r.versions.redis}, autocannon ${r.versions.autocannon}`,
    `- One server process, DATABASE_POOL_SIZE=${s.poolSize}; ${s.connections} connections, no pipelining; mix ${s.mix.map((p) => `${p.scenario} ${p.weight}`).join(' : ')} (cycle ${s.cycle.join(', ')})`,
    `- ${s.warmupSeconds} s warm-up then ${s.minutes} min measured, in windows of ${s.windowSeconds} s (one autocannon run each); server RSS ${r.beforeLoad.server.rssMiB} MiB before the load, VmHWM ${r.serverHighWaterMarkMiB} MiB at the end`,
    `- Machine before the bench: ${r.machineBusyBeforeCores ?? '?'} cores busy${r.noisy ? '; **noisy: other processes used more than 0.2 cores during some windows (⚠️), so those figures are low estimates**' : ''}`,
    '',
  ].join('\n');
}

function windowTable(r) {
  const lines = [
    '| # | phase | t s | req/s | p50 ms | p99 ms | failures | CPU cores srv/pg/redis/other | server RSS MiB (window mean, min-max) | heap used MiB | event loop p99 ms | PG backends MiB | Redis RSS MiB | PG database MiB | Redis keys | gap ms |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const w of r.windows) {
    const m = w.memory;
    const cpu = w.cpu === null ? '-' : `${w.cpu.server}/${w.cpu.postgres}/${w.cpu.redis}/${w.cpu.other}`;
    lines.push(
      `| ${w.index + 1} | ${w.phase}${w.noisy ? ' ⚠️' : ''} | ${w.atSeconds} | ${fmt(w.requestsPerSecond)} | ${w.latencyMs.p50} | ${w.latencyMs.p99} | ${failures(w)} | ${cpu} | ${fmt(m.server.rssMiB)} (${fmt(m.server.rssWindowMinMiB)}-${fmt(m.server.rssWindowMaxMiB)}) | ${fmt(m.server.heapUsedMiB)} | ${fmt(m.server.eventLoopLagP99Ms)} | ${fmt(m.postgres.rssAnonMiB)} | ${fmt(m.redisRssMiB)} | ${fmt(m.postgresDatabaseMiB)} | ${fmt(m.redisKeys)} | ${fmt(w.gapMs)} |`,
    );
  }
  return lines.join('\n');
}

function summaryLine(r) {
  const measured = r.windows.filter((w) => w.phase === 'measured');
  const v = r.verdict.rss;
  const first = measured[0]?.memory.server.rssMiB;
  const last = measured.at(-1)?.memory.server.rssMiB;
  return (
    `| ${r.date} | \`${r.machine.commitShort ?? '?'}\`${r.machine.workingTreeDirty ? '+' : ''} | ${r.settings.minutes} min (+${r.settings.warmupSeconds} s) | ${r.settings.connections} | ` +
    `${fmt(median(measured.map((w) => w.requestsPerSecond)))} | ${fmt(median(measured.map((w) => w.latencyMs.p99)))} / ${fmt(Math.max(...measured.map((w) => w.latencyMs.p99)))} | ` +
    `${fmt(first)} → ${fmt(last)} | ${v.slopeMiBPerMinute} | ${v.thirdsChangePercent} % | ${v.verdict} | ${r.verdict.clean ? 'yes' : '**no**'}${r.noisy ? ' ⚠️ noisy' : ''} |`
  );
}

/** Rebuilds bench/results/soak/README.md from every run file, newest first. */
export function writeSoakReadme(dir) {
  const runs = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ ...JSON.parse(readFileSync(path.join(dir, f), 'utf8')), file: f }))
    .filter((r) => r.schema === 1 && r.kind === 'soak')
    .sort((a, b) => (a.date < b.date ? 1 : -1));
  const text = [
    '# Soak results',
    '',
    'Written by `make bench-soak` (`bench/soak.mjs`); one JSON file per run beside this file, and this',
    'page rebuilt from all of them. How to read it: [../../README.md](../../README.md#soak-make-bench-soak).',
    '"+" after a commit: the server or the spec had uncommitted changes.',
    '',
    '## Runs',
    '',
    '| date | commit | length | connections | req/s (median window) | p99 ms (median / worst window) | server RSS MiB, first → last measured window | RSS slope MiB/min | last vs first third | verdict | clean |',
    '| --- | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | --- | --- |',
    ...runs.map(summaryLine),
    '',
    ...runs.flatMap((r) => [
      runHeader(r),
      verdictText(r.verdict),
      '',
      `Server RSS (each window's mean of 1 s readings), one column per ${r.settings.windowSeconds} s window (warm-up: the first ${r.windows.filter((w) => w.phase === 'warmup').length}):`,
      '',
      '```text',
      rssChart(r.windows),
      '```',
      '',
      windowTable(r),
      '',
    ]),
  ].join('\n');
  writeFileSync(path.join(dir, 'README.md'), text);
}
