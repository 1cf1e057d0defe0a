// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by module,
// and inclusive time of the functions that matter. Usable alone:
//   node bench/lib/profile.mjs path/to/file.cpuprofile [top]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const SPECIAL = new Set(['(program)', '(garbage collector)', '(idle)', '(root)']);

/** The module a frame belongs to: an npm package, a server source file, a Node core area. */
export function moduleOf(frame) {
  const { url, functionName } = frame;
  if (url === '') return SPECIAL.has(functionName) ? functionName : '(native/V8 builtin)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return `npm:${rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  const dist = url.indexOf('/reference-server/dist/');
  if (dist >= 0) return `mandate:src/${url.slice(dist + '/reference-server/dist/'.length).replace(/\.js$/, '.ts')}`;
  if (url.startsWith('node:')) {
    const parts = url.slice('node:'.length).split('/');
    return `node:${parts[0] === 'internal' ? parts.slice(0, Math.min(parts.length, 2)).join('/').replace(/\.js$/, '') : parts[0]}`;
  }
  return url;
}

/** A frame's name with its module and line (`fn npm:koa:12`, `fn mandate:src/app.ts:40`). */
export function label(frame) {
  const name = frame.functionName || '(anonymous)';
  if (frame.url === '') return name;
  // Node core frames keep their file (node:internal/crypto/webcrypto), the others their module.
  const where = frame.url.startsWith('node:') ? frame.url.replace(/\.js$/, '') : moduleOf(frame);
  return `${name} ${where}:${frame.lineNumber + 1}`;
}

export function summarise(profile, top = 10) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  // Sample i lasted until sample i+1: attribute timeDeltas[i+1] to samples[i].
  const selfMicros = new Map();
  const { samples, timeDeltas } = profile;
  let total = 0;
  for (let i = 0; i < samples.length; i++) {
    const dt = timeDeltas[i + 1] ?? 0;
    selfMicros.set(samples[i], (selfMicros.get(samples[i]) ?? 0) + dt);
    total += dt;
  }
  const idle = [...selfMicros].filter(([id]) => nodes.get(id).callFrame.functionName === '(idle)').reduce((s, [, v]) => s + v, 0);
  const busy = total - idle;

  const byFunction = new Map();
  const byModule = new Map();
  const inclusive = new Map();
  for (const [id, micros] of selfMicros) {
    const frame = nodes.get(id).callFrame;
    if (frame.functionName === '(idle)') continue;
    const fn = label(frame);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + micros);
    const mod = moduleOf(frame);
    byModule.set(mod, (byModule.get(mod) ?? 0) + micros);
    // Inclusive: every distinct function on the stack gets the sample once.
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const f = nodes.get(at).callFrame;
      if (SPECIAL.has(f.functionName)) continue;
      const key = label(f);
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + micros);
    }
  }
  const rank = (map, n) =>
    [...map]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, micros]) => ({ name, ms: Math.round(micros / 1000), percentOfBusy: Math.round((1000 * micros) / busy) / 10 }));
  return {
    wallSeconds: Math.round(total / 1e4) / 100,
    busySeconds: Math.round(busy / 1e4) / 100,
    idlePercent: Math.round((1000 * idle) / total) / 10,
    topSelfFunctions: rank(byFunction, top),
    topSelfModules: rank(byModule, top),
    // Mandate's own functions and the libraries' entry points, by time including callees.
    topInclusiveMandate: rank(new Map([...inclusive].filter(([k]) => k.includes(' mandate:'))), top),
    topInclusiveAll: rank(inclusive, top * 2),
  };
}

export function summaryMarkdown(summary, title) {
  const table = (rows, heading) =>
    [`| ${heading} | ms | % of busy |`, '| --- | ---: | ---: |', ...rows.map((r) => `| \`${r.name}\` | ${r.ms} | ${r.percentOfBusy} |`)].join('\n');
  return [
    `# ${title}`,
    '',
    `Profiled ${summary.wallSeconds} s of the server's main thread: ${summary.busySeconds} s busy, ${summary.idlePercent}% idle.`,
    '',
    '## Self time by function',
    '',
    table(summary.topSelfFunctions, 'function'),
    '',
    '## Self time by module',
    '',
    table(summary.topSelfModules, 'module'),
    '',
    "## Inclusive time of Mandate's own functions",
    '',
    table(summary.topInclusiveMandate, 'function'),
    '',
    '## Inclusive time, all functions',
    '',
    table(summary.topInclusiveAll, 'function'),
    '',
  ].join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, top] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write('usage: node bench/lib/profile.mjs FILE.cpuprofile [top]\n');
    process.exit(2);
  }
  const summary = summarise(JSON.parse(readFileSync(file, 'utf8')), Number(top) || 10);
  process.stdout.write(summaryMarkdown(summary, `CPU profile: ${file}`));
}
