// Figures of `make bench-peers`: the per-scenario summary (medians over the rounds, and the
// ratios Mandate / peer computed round by round from the same run), the stdout table, and
// bench/results/peers/README.md, rebuilt from every JSON file there.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { median, risingAcrossRounds } from '../stats.mjs';

export const SCENARIOS = {
  issuance: {
    name: 'Token issuance',
    call: 'POST <token endpoint>: grant_type=client_credentials&scope=agents:read, client_secret_basic; the connections cycle through 25 clients',
  },
  introspection: {
    name: 'Introspection',
    call: 'POST <RFC 7662 endpoint>: token=<live access token>, the caller authenticated as each server expects; cycles through 16 live tokens',
  },
  list: {
    name: 'Authenticated list',
    call: 'GET /v1/agents?limit=20 with the org admin token (Mandate only: the peers have no such call)',
    mandateOnly: true,
  },
};

const r1 = (n) => (n === null ? null : Math.round(n * 10) / 10);
const r2 = (n) => (n === null ? null : Math.round(n * 100) / 100);
const r3 = (n) => (n === null ? null : Math.round(n * 1000) / 1000);
const failures = (run) => run.errors + run.timeouts + run.non2xx + run.mismatches;

/**
 * Per scenario and connection level: each server's medians over the rounds, and each peer's
 * ratio Mandate / peer (the median of the rounds' own ratios, each round's kept beside it).
 */
export function summarise(runs, servers, levels) {
  const out = [];
  for (const [id, scenario] of Object.entries(SCENARIOS)) {
    for (const connections of levels) {
      const entry = { id, name: scenario.name, call: scenario.call, connections, servers: {}, ratios: {} };
      for (const server of servers) {
        const own = runs.filter((r) => r.scenario === id && r.connections === connections && r.server === server.name).sort((a, b) => a.round - b.round);
        if (own.length === 0) continue;
        const sum = (pick) => r2(own.reduce((total, r) => total + (pick(r) ?? 0), 0));
        entry.servers[server.name] = {
          rounds: own.length,
          requestsPerSecond: { median: r1(median(own.map((r) => r.requestsPerSecond.mean))), perRound: own.map((r) => r.requestsPerSecond.mean) },
          latencyMs: { p50: median(own.map((r) => r.latencyMs.p50)), p90: median(own.map((r) => r.latencyMs.p90)), p99: median(own.map((r) => r.latencyMs.p99)) },
          failures: own.reduce((n, r) => n + failures(r), 0),
          cpuSeconds: { server: sum((r) => r.cpu?.seconds[server.name]), itsDatabase: sum((r) => r.cpu?.seconds.postgres[server.name]), measuredSeconds: sum((r) => r.cpu?.wallSeconds) },
          cpuMsPerRequest: { server: r2(median(own.map((r) => r.cpuMsPerRequest?.server ?? null))), serverAndItsDatabase: r2(median(own.map((r) => r.cpuMsPerRequest?.serverAndItsDatabase ?? null))) },
          noisyRounds: own.filter((r) => r.noisy).length,
        };
      }
      const mandate = runs.filter((r) => r.scenario === id && r.connections === connections && r.server === 'mandate');
      for (const server of servers) {
        if (server.name === 'mandate' || entry.servers[server.name] === undefined) continue;
        const perRound = mandate
          .map((m) => {
            const peer = runs.find((r) => r.scenario === id && r.connections === connections && r.server === server.name && r.round === m.round);
            return peer === undefined || peer.requestsPerSecond.mean === 0 ? null : r3(m.requestsPerSecond.mean / peer.requestsPerSecond.mean);
          })
          .filter((x) => x !== null);
        entry.ratios[`mandate/${server.name}`] = { median: r3(median(perRound)), perRound };
      }
      if (Object.keys(entry.servers).length > 0) out.push(entry);
    }
  }
  return out;
}

/** A server still getting faster through the rounds (see risingAcrossRounds); derived, so older results are judged too. */
export const stillWarming = (figures) => risingAcrossRounds(figures.requestsPerSecond.perRound) === true;

const fmt = (n) => (n === null || n === undefined ? '-' : typeof n === 'number' ? n.toLocaleString('en-US') : String(n));
const pad = (s, n) => String(s).padEnd(n);
const padL = (s, n) => String(s).padStart(n);

export function stdoutTable(result) {
  const labels = Object.fromEntries(result.servers.map((s) => [s.name, s.label]));
  const head = ['scenario', 'server', 'conns', 'req/s (median)', 'p50 ms', 'p90 ms', 'p99 ms', 'fails', 'CPU ms/req srv(+db)', 'Mandate / this'];
  const widths = [20, 26, 5, 14, 6, 6, 6, 5, 19, 14];
  const lines = [head.map((h, i) => (i < 2 ? pad(h, widths[i]) : padL(h, widths[i]))).join('  '), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const s of result.scenarios) {
    for (const [name, f] of Object.entries(s.servers)) {
      const ratio = s.ratios[`mandate/${name}`];
      const row = [
        s.name,
        `${labels[name] ?? name}${f.noisyRounds > 0 ? ' !' : ''}${stillWarming(f) ? ' ^' : ''}`,
        s.connections,
        fmt(f.requestsPerSecond.median),
        f.latencyMs.p50,
        f.latencyMs.p90,
        f.latencyMs.p99,
        f.failures,
        `${fmt(f.cpuMsPerRequest.server)} (${fmt(f.cpuMsPerRequest.serverAndItsDatabase)})`,
        ratio === undefined ? '' : `${ratio.median} ×`,
      ];
      lines.push(row.map((v, i) => (i < 2 ? pad(v, widths[i]) : padL(v, widths[i]))).join('  '));
    }
  }
  return lines.join('\n');
}

/** The Markdown table of one run's summary (also pasted into bench/README.md). */
export function runTable(result) {
  const labels = Object.fromEntries(result.servers.map((s) => [s.name, s.label]));
  const lines = [
    '| scenario | server | connections | req/s (median of rounds) | req/s per round | p50 / p90 / p99 ms | errors | CPU s server / its database | CPU ms per request (server + its database) | Mandate ÷ this server (per round) |',
    '| --- | --- | ---: | ---: | --- | --- | ---: | --- | ---: | --- |',
  ];
  for (const s of result.scenarios) {
    for (const [name, f] of Object.entries(s.servers)) {
      const ratio = s.ratios[`mandate/${name}`];
      lines.push(
        `| ${s.name} | ${labels[name] ?? name}${f.noisyRounds > 0 ? ' ⚠️' : ''}${stillWarming(f) ? ' ↗' : ''} | ${s.connections} | ${fmt(f.requestsPerSecond.median)} | ${f.requestsPerSecond.perRound.map(fmt).join(', ')} | ${f.latencyMs.p50} / ${f.latencyMs.p90} / ${f.latencyMs.p99} | ${f.failures} | ${fmt(f.cpuSeconds.server)} / ${fmt(f.cpuSeconds.itsDatabase)} | ${fmt(f.cpuMsPerRequest.server)} (${fmt(f.cpuMsPerRequest.serverAndItsDatabase)}) | ${ratio === undefined ? '—' : `**${ratio.median}** (${ratio.perRound.join(', ')})`} |`,
      );
    }
  }
  return lines.join('\n');
}

function runSection(r) {
  const m = r.machine;
  const busiest = r.runs.reduce((max, run) => Math.max(max, run.cpu === null ? 0 : run.cpu.seconds.other / run.cpu.wallSeconds), 0);
  const lines = [
    `### ${r.date} — ${m.hostname}`,
    '',
    `- File \`${r.file}\`; commit \`${m.commitShort ?? '?'}\`${m.workingTreeDirty ? ' (the server or the spec had uncommitted changes)' : ''}; ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB; ${m.os}`,
    `- Versions: Mandate \`${r.versions.mandate}\`; Ory Hydra ${r.versions.hydra ?? '— (not measured)'}; Keycloak ${r.versions.keycloak ?? '— (not measured)'}${r.versions.java ? ` on Java ${r.versions.java}` : ''}; Node ${r.versions.node}; PostgreSQL ${r.versions.postgres}; Redis ${r.versions.redis}; autocannon ${r.versions.autocannon}`,
    `- Load: ${r.load.rounds} round(s); each run ${r.load.warmupSeconds} s warm-up (discarded) then ${r.load.durationSeconds} s measured; connections ${r.load.connectionLevels.join(', ')}; no pipelining; ${r.load.initialWarmupSeconds} s of initial warm-up per server and scenario before round 1; database pools: Mandate ${r.load.poolSize.mandate}, Keycloak ${r.load.poolSize.keycloak}, Hydra ${r.load.poolSize.hydra}`,
    `- Timing: installs ${r.timing.installSeconds} s, first load ${r.timing.firstLoadAfterSeconds} s and first measurement ${r.timing.firstMeasurementAfterSeconds} s after the command started, ${r.timing.totalSeconds} s in all`,
    `- Machine: ${r.machineBusyBeforeCores ?? '?'} cores busy before the bench; up to ${Math.round(busiest * 100) / 100} cores used by other processes during a run${r.noisy ? ' — **noisy (⚠️): the figures are low estimates; a quiet run is needed before quoting them**' : ''}`,
    `- Verdict: ${r.verdict.clean ? 'zero errors, timeouts, non-2xx and wrong bodies' : '**errors, timeouts, non-2xx or wrong bodies seen**'}`,
  ];
  for (const u of r.unavailable) lines.push(`- **Not measured: ${u.server}** (${u.stage}): ${u.reason.split('\n')[0]}`);
  lines.push('', runTable(r), '');
  if (r.warmupCurves.length > 0) {
    lines.push('Initial warm-up (req/s per 10 s chunk, discarded):', '');
    for (const c of r.warmupCurves) {
      const label = r.servers.find((s) => s.name === c.server)?.label ?? c.server;
      const before = Math.max(...c.chunks.slice(0, -1).map((x) => x.requestsPerSecond));
      const climbing = c.chunks.length >= 3 && c.chunks.at(-1).requestsPerSecond > before * 1.1;
      lines.push(`- ${label}, ${SCENARIOS[c.scenario]?.name ?? c.scenario}, ${c.connections} c: ${c.chunks.map((x) => fmt(Math.round(x.requestsPerSecond))).join(' → ')}${climbing ? ' (**still climbing at its end**: measured less warm than the others)' : ''}`);
    }
    lines.push('');
  }
  return lines.join('\n');
}

/** Rebuilds bench/results/peers/README.md from every run file, newest first. */
export function writePeersReadme(resultsDir) {
  const results = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => ({ ...JSON.parse(readFileSync(path.join(resultsDir, f), 'utf8')), file: f }))
    .filter((r) => r.schema === 1 && r.kind === 'peers')
    .sort((a, b) => (a.date < b.date ? 1 : -1));
  const ratio = (r, id, peer) => {
    const s = r.scenarios.find((x) => x.id === id);
    const v = s?.ratios[`mandate/${peer}`]?.median;
    return v === undefined || v === null ? '—' : `${v} ×`;
  };
  const text = [
    '# Side-by-side results: Mandate, Ory Hydra, Keycloak',
    '',
    'Written by `make bench-peers` (`bench/peers.mjs`); one JSON file per run beside this file, and this',
    'page rebuilt from all of them. What is measured and how each server is configured:',
    '[../../README.md](../../README.md#side-by-side-with-ory-hydra-and-keycloak-make-bench-peers).',
    'Ratios are Mandate ÷ peer in requests/s, computed round by round from the same run (the median of',
    'the rounds\' ratios). A run marked noisy had other work on the machine: its figures are low estimates.',
    'A server marked ↗ got faster round after round (none slower than the one before, the last more than',
    '15 % above the first): it was measured before its JIT had settled, so a ratio to it is an upper bound.',
    '',
    '| date | commit | Hydra | Keycloak | issuance Mandate ÷ Hydra | issuance Mandate ÷ Keycloak | introspection Mandate ÷ Hydra | introspection Mandate ÷ Keycloak | clean |',
    '| --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |',
    ...results.map(
      (r) =>
        `| ${r.date} | \`${r.machine.commitShort ?? '?'}\`${r.machine.workingTreeDirty ? '+' : ''} | ${r.versions.hydra?.split(' ')[0] ?? '—'} | ${r.versions.keycloak ?? '—'} | ${ratio(r, 'issuance', 'hydra')} | ${ratio(r, 'issuance', 'keycloak')} | ${ratio(r, 'introspection', 'hydra')} | ${ratio(r, 'introspection', 'keycloak')} | ${r.verdict.clean ? 'yes' : '**no**'}${r.noisy ? ' ⚠️ noisy' : ''} |`,
    ),
    '',
    '## Runs',
    '',
    'Per scenario, connection level and server: the median over the rounds, each round\'s figure, and the CPU',
    'seconds of the server (all its processes) and of its own database\'s PostgreSQL backends, summed over',
    'the measured seconds of all rounds.',
    '',
    ...results.map(runSection),
  ].join('\n');
  writeFileSync(path.join(resultsDir, 'README.md'), text);
}
