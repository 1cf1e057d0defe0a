// The machine's description, the per-run JSON, the stdout table, and bench/results/README.md
// (rebuilt from every JSON file in bench/results/ on each run).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function git(repoRoot, args) {
  try {
    // --no-optional-locks: a read must not refresh (write) the index.
    return execFileSync('git', ['--no-optional-locks', '-C', repoRoot, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/** Newest modification time under a directory (recursive), in ms; 0 when missing. */
function newestMtime(dir) {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * When the server was built, and whether its sources changed since: the bench runs
 * reference-server/dist as it is, so a stale build would be measured under the wrong commit.
 */
export function describeBuild(repoRoot) {
  const main = path.join(repoRoot, 'reference-server', 'dist', 'main.js');
  if (!existsSync(main)) return { builtAt: null, stale: null };
  const builtAt = statSync(main).mtimeMs;
  const sources = Math.max(newestMtime(path.join(repoRoot, 'reference-server', 'src')), newestMtime(path.join(repoRoot, 'reference-server', 'migrations')));
  return { builtAt: new Date(builtAt).toISOString(), stale: sources > builtAt + 1000 };
}

export function describeMachine(repoRoot) {
  let cpuModel = os.cpus()[0]?.model ?? 'unknown';
  try {
    cpuModel = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpuModel;
  } catch {
    // os.cpus() it is
  }
  const commit = git(repoRoot, ['rev-parse', 'HEAD']);
  // Only what the server runs from: its sources and the spec it loads.
  const dirty = git(repoRoot, ['status', '--porcelain', '--untracked-files=no', '--', 'reference-server', 'spec']);
  return {
    hostname: os.hostname(),
    cpuModel,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    commit,
    commitShort: commit?.slice(0, 10) ?? null,
    // Uncommitted changes to the server or the spec: the numbers are for the working tree, not the commit.
    workingTreeDirty: dirty === null ? null : dirty !== '',
  };
}

const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);
const fmt = (n) => (n === null || n === undefined ? '-' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const cores = (c) => (c === null ? '-' : `${c.server}/${c.loadGenerator}/${c.postgres}/${c.redis}/${c.other}`);

export function stdoutTable(result) {
  const head = ['scenario', 'conns', 'req/s', 'p50 ms', 'p90 ms', 'p99 ms', 'errors', 'timeouts', 'non-2xx', 'bad body', 'CPU srv/gen/pg/redis/other', 'target'];
  const widths = [29, 5, 9, 6, 6, 6, 6, 8, 7, 8, 27, 16];
  const lines = [head.map((h, i) => (i < 1 ? pad(h, widths[i]) : padL(h, widths[i]))).join('  ')];
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const s of result.scenarios) {
    for (const run of s.runs) {
      const best = run.connections === s.best.connections;
      const target = s.target === null ? '' : best ? `${s.targetMet ? 'PASS' : 'MISS'} >=${fmt(s.target)}` : '';
      const row = [
        `${s.name}${best && s.runs.length > 1 ? ' *' : ''}${run.noisy ? ' !' : ''}`,
        run.connections,
        fmt(run.requestsPerSecond.mean),
        run.latencyMs.p50,
        run.latencyMs.p90,
        run.latencyMs.p99,
        run.errors,
        run.timeouts,
        run.non2xx,
        run.mismatches,
        cores(run.cpu),
        target,
      ];
      lines.push(row.map((v, i) => (i < 1 ? pad(v, widths[i]) : padL(v, widths[i]))).join('  '));
    }
  }
  return lines.join('\n');
}

/** A results page's lines on what a run measured: commit and build, machine, versions (`r.file`: its JSON file). */
export function provenanceLines(r) {
  const m = r.machine;
  return [
    `- Commit \`${m.commitShort ?? 'unknown'}\`${m.workingTreeDirty ? ' (the server or the spec had uncommitted changes)' : ''}; server built ${r.build?.builtAt ?? '?'}${r.build?.stale ? ' (**stale: sources changed after the build**)' : ''}; file \`${r.file}\``,
    `- ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}`,
    `- Node ${m.node}, PostgreSQL ${r.versions.postgres}, Redis ${r.versions.redis}, autocannon ${r.versions.autocannon}`,
  ];
}

function runHeader(r) {
  return [
    `### ${r.date} — ${r.machine.hostname}`,
    '',
    ...provenanceLines(r),
    `- One server process, DATABASE_POOL_SIZE=${r.server.DATABASE_POOL_SIZE}, LOG_LEVEL=${r.server.LOG_LEVEL}; load generator on the same cores`,
    `- Each run: ${r.load.warmupSeconds} s warm-up (discarded), then ${r.load.durationSeconds} s measured; connections tried: ${r.load.connectionLevels.join(', ')}; no pipelining`,
    `- Machine before the bench: ${r.machineBusyBeforeCores ?? '?'} cores busy${r.noisy ? '; **noisy: other processes used the cores during some runs (⚠️), so those figures are low estimates**' : ''}`,
    `- Verdict: ${r.verdict.clean ? 'zero errors, timeouts, non-2xx and wrong bodies' : '**errors, timeouts, non-2xx or wrong bodies seen**'}`,
    '',
  ].join('\n');
}

function runTable(r) {
  const lines = [
    '| scenario | connections | req/s (mean) | p50 ms | p90 ms | p99 ms | errors | timeouts | non-2xx | wrong body | CPU cores srv/gen/pg/redis/other | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const s of r.scenarios) {
    for (const run of s.runs) {
      const best = run.connections === s.best.connections;
      const target = s.target === null ? '—' : best ? `${s.targetMet ? '✅ pass' : '❌ miss'} (≥ ${fmt(s.target)}/s)` : '';
      lines.push(
        `| ${best && s.runs.length > 1 ? `**${s.name}**` : s.name}${run.noisy ? ' ⚠️' : ''} | ${run.connections} | ${fmt(run.requestsPerSecond.mean)} | ${run.latencyMs.p50} | ${run.latencyMs.p90} | ${run.latencyMs.p99} | ${run.errors} | ${run.timeouts} | ${run.non2xx} | ${run.mismatches} | ${cores(run.cpu)} | ${target} |`,
      );
    }
  }
  return lines.join('\n');
}

/** Rebuilds bench/results/README.md from every run file, newest first. */
export function writeResultsReadme(resultsDir) {
  const runs = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ ...JSON.parse(readFileSync(path.join(resultsDir, f), 'utf8')), file: f }))
    .filter((r) => r.schema === 1)
    .sort((a, b) => (a.date < b.date ? 1 : -1));
  const summary = [
    '| date | commit | CPU | issuance req/s | introspection req/s | list req/s | ceiling (/health) req/s | clean |',
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...runs.map((r) => {
      const best = (id) => {
        const s = r.scenarios.find((x) => x.id === id);
        if (s === undefined) return '—';
        const mark = s.target === null ? '' : s.targetMet ? ' ✅' : ' ❌';
        return `${fmt(s.best.requestsPerSecond.mean)} (${s.best.connections} c)${mark}`;
      };
      return `| ${r.date} | \`${r.machine.commitShort ?? '?'}\`${r.machine.workingTreeDirty ? '+' : ''} | ${r.machine.cores}× ${r.machine.cpuModel} | ${best('issuance')} | ${best('introspection')} | ${best('list')} | ${best('health')} | ${r.verdict.clean ? 'yes' : '**no**'}${r.noisy ? ' ⚠️ noisy' : ''} |`;
    }),
  ];
  const text = [
    '# Benchmark results',
    '',
    'Written by `make bench` (`bench/run.mjs`); one JSON file per run beside this file, and this',
    'page rebuilt from all of them. How to read it: [../README.md](../README.md). Targets: token',
    'issuance ≥ 2,000/s and introspection ≥ 5,000/s, with zero errors, on the two-core machine with',
    'the load generator on the same cores. "+" after a commit: the server or the spec had uncommitted changes.',
    '',
    '## Best level of each run',
    '',
    'Requests/s at the connection level that gave the most (connections in brackets).',
    '',
    ...summary,
    '',
    '## Runs',
    '',
    'The best level of each scenario is in bold. CPU: average busy cores of the server, the load',
    'generator, PostgreSQL (the bench database\'s backends and the shared background processes),',
    'Redis, and everything else on the machine ("other": a figure above 0.2 marks the run noisy ⚠️).',
    '',
    ...runs.flatMap((r) => [runHeader(r), runTable(r), '']),
  ].join('\n');
  writeFileSync(path.join(resultsDir, 'README.md'), text);
}

/** `2026-11-22-1405-<host>.json`, never overwriting an earlier file. */
export function resultFileName(resultsDir, date, hostname) {
  const stamp = date.toISOString().replace(/:\d\d\.\d+Z$/, '').replace('T', '-').replace(':', '');
  const host = hostname.replace(/[^A-Za-z0-9.-]/g, '_');
  let name = `${stamp}-${host}.json`;
  for (let i = 2; existsSync(path.join(resultsDir, name)); i++) name = `${stamp}-${host}-${i}.json`;
  return name;
}

/** Writes a run's JSON into `resultsDir` beside the earlier ones and rebuilds that folder's README; returns the file name. */
export function saveResult(resultsDir, result, rebuildReadme) {
  mkdirSync(resultsDir, { recursive: true });
  const file = resultFileName(resultsDir, new Date(result.date), result.machine.hostname);
  writeFileSync(path.join(resultsDir, file), `${JSON.stringify(result, null, 2)}\n`);
  rebuildReadme(resultsDir);
  return file;
}
