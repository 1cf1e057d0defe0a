// A flame graph (SVG) of a V8 .cpuprofile (node --cpu-prof): the profile is folded into
// stacks here (`frame;frame;frame weight`, weight = sampled microseconds) and drawn by
// inferno-flamegraph (the Rust port of Brendan Gregg's FlameGraph), installed once with cargo
// into ~/.cache/mandate-bench-tools (MANDATE_BENCH_TOOLS_CACHE). Usable alone:
//   node bench/lib/flamegraph.mjs FILE.cpuprofile OUT.svg [title]
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { label, moduleOf } from './profile.mjs';

export const INFERNO_VERSION = '0.12.8';

/** Where the bench's own tools are cached, outside the work tree. */
export function toolsCache() {
  return process.env.MANDATE_BENCH_TOOLS_CACHE ?? path.join(os.homedir(), '.cache', 'mandate-bench-tools');
}

/**
 * The inferno-flamegraph binary, installed from crates.io on first use (about 20 s here):
 * only its command-line feature and only that binary, pinned, with its own lock file.
 */
export function inferno(log = () => undefined) {
  const root = path.join(toolsCache(), `inferno-${INFERNO_VERSION}`);
  const binary = path.join(root, 'bin', 'inferno-flamegraph');
  if (existsSync(binary)) return binary;
  log(`installing inferno ${INFERNO_VERSION} with cargo into ${root} (once)`);
  mkdirSync(root, { recursive: true });
  try {
    execFileSync(
      'cargo',
      ['install', 'inferno', '--version', INFERNO_VERSION, '--locked', '--no-default-features', '--features', 'cli', '--bin', 'inferno-flamegraph', '--root', root],
      { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' },
    );
  } catch (error) {
    const detail = error.code === 'ENOENT' ? 'cargo is not installed (https://rustup.rs)' : String(error.stderr ?? error.message).trim().split('\n').slice(-5).join('\n');
    throw new Error(`could not install inferno ${INFERNO_VERSION}: ${detail}`);
  }
  return binary;
}

// Folded lines separate frames with ';' and end with ' weight'; inferno's palette map uses '->'.
const frameName = (frame) => label(frame).replaceAll(';', ',').replaceAll('->', '-');

/**
 * Folded stacks of the busy samples (idle dropped), root first, each weighted by the time
 * until the next sample (as summarise() in profile.mjs counts it), in microseconds; and each
 * frame name's module, for the colours.
 */
export function foldStacks(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stackOf = new Map();
  const modules = new Map();
  const stack = (id) => {
    if (!stackOf.has(id)) {
      const frame = nodes.get(id).callFrame;
      const up = parent.get(id);
      const name = frameName(frame);
      modules.set(name, moduleOf(frame));
      // (root) is every stack's bottom: left out, as in other flame graph tools.
      stackOf.set(id, up === undefined ? '' : [stack(up), name].filter((s) => s !== '').join(';'));
    }
    return stackOf.get(id);
  };
  const weights = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    if (nodes.get(id).callFrame.functionName === '(idle)') continue;
    const key = stack(id);
    weights.set(key, (weights.get(key) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  const lines = [...weights].filter(([key, micros]) => key !== '' && micros > 0).map(([key, micros]) => `${key} ${micros}`);
  return { folded: `${lines.join('\n')}\n`, modules };
}

// One hue per kind of code, the shade varying by name so that neighbours stay apart.
const KINDS = [
  { test: (m) => m.startsWith('mandate:'), rgb: [70, 170, 80], what: 'green: Mandate' },
  { test: (m) => m.startsWith('npm:'), rgb: [150, 110, 200], what: 'purple: npm packages' },
  { test: (m) => m.startsWith('node:'), rgb: [230, 150, 50], what: 'orange: Node.js core' },
  { test: () => true, rgb: [160, 160, 160], what: 'grey: V8 builtins, native code, GC' },
];
export const COLOUR_KEY = KINDS.map((k) => k.what).join(', ');

/** inferno's palette map (`name->rgb(r,g,b)` a line) colouring every frame by its kind. */
export function paletteMap(modules) {
  const lines = [];
  for (const [name, module] of modules) {
    const { rgb } = KINDS.find((k) => k.test(module));
    const shade = (createHash('sha1').update(name).digest()[0] / 255) * 0.3 - 0.15;
    const [r, g, b] = rgb.map((c) => Math.max(0, Math.min(255, Math.round(c * (1 + shade)))));
    lines.push(`${name}->rgb(${r},${g},${b})`);
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the flame graph of `cpuprofilePath` to `svgPath`. */
export function writeFlamegraph(cpuprofilePath, svgPath, { title = 'CPU flame graph', log } = {}) {
  const { folded, modules } = foldStacks(JSON.parse(readFileSync(cpuprofilePath, 'utf8')));
  const binary = inferno(log);
  // inferno reads its palette map from palette.map in its working directory.
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'mandate-flamegraph-'));
  try {
    writeFileSync(path.join(scratch, 'palette.map'), paletteMap(modules));
    const svg = execFileSync(
      binary,
      ['--cp', '--title', title, '--subtitle', `Busy time of the main thread (idle left out); width = sampled µs. ${COLOUR_KEY}.`, '--countname', 'µs', '--nametype', 'Frame:', '--width', '1600'],
      { cwd: scratch, input: folded, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    writeFileSync(svgPath, svg);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return svgPath;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [file, out, title] = process.argv.slice(2);
  if (file === undefined || out === undefined) {
    process.stderr.write('usage: node bench/lib/flamegraph.mjs FILE.cpuprofile OUT.svg [title]\n');
    process.exit(2);
  }
  try {
    writeFlamegraph(file, out, { title: title ?? `CPU flame graph: ${path.basename(file)}`, log: (m) => process.stderr.write(`[flamegraph] ${m}\n`) });
    process.stdout.write(`${out}\n`);
  } catch (error) {
    process.stderr.write(`[flamegraph] ${error.message}\n`);
    process.exit(1);
  }
}
