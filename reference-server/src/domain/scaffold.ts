import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { type ZipOptions, zipSync } from 'fflate';

/**
 * Starter projects: one template folder per language under reference-server/scaffold/,
 * rendered for one agent and packed as a zip. Found as migrations/ is: ../../scaffold from
 * src/domain (tests) and from dist/domain (the built server) is the same folder.
 */
export const SCAFFOLD_DIR = path.resolve(__dirname, '../../scaffold');

export const SCAFFOLD_LANGUAGES = ['typescript', 'python', 'go', 'java'] as const;
export type ScaffoldLanguage = (typeof SCAFFOLD_LANGUAGES)[number];

export const isScaffoldLanguage = (value: unknown): value is ScaffoldLanguage =>
  typeof value === 'string' && (SCAFFOLD_LANGUAGES as readonly string[]).includes(value);

/**
 * The template syntax, kept small on purpose:
 *   {{agentId}} {{baseUrl}} {{projectName}} {{agentName}}   a value (agentName in Markdown only)
 *   {{#if readsAgents}} … {{else}} … {{/if}}                  a section, each marker alone on its
 *                                                            line (inside the file's comment syntax)
 * Any other {{…}} fails when the templates are loaded, so a typo stops the server at boot
 * instead of shipping a broken project.
 */
const VALUES = ['agentId', 'agentName', 'baseUrl', 'projectName'] as const;
type ValueName = (typeof VALUES)[number];
/** Escaped for Markdown, not for code: a name is free text and must never become source. */
const MARKDOWN_ONLY: ReadonlySet<ValueName> = new Set(['agentName']);
const FLAGS = ['readsAgents'] as const;
type FlagName = (typeof FLAGS)[number];

export type ScaffoldValues = Record<ValueName, string>;
export type ScaffoldFlags = Record<FlagName, boolean>;

type Part = { text: string } | { value: ValueName } | { flag: FlagName; then: Part[]; otherwise: Part[] };

export class ScaffoldTemplateError extends Error {
  constructor(file: string, line: number, problem: string) {
    super(`${file}:${line}: ${problem}`);
    this.name = 'ScaffoldTemplateError';
  }
}

// A marker line: optional comment punctuation (//, #, <!-- -->) around exactly one marker.
const SECTION_LINE = /^\s*(?:\/\/|#|<!--)?\s*\{\{(#if [A-Za-z]+|else|\/if)\}\}\s*(?:-->)?\s*$/;
const TAG = /\{\{([^{}]*)\}\}/g;

const isValue = (name: string): name is ValueName => (VALUES as readonly string[]).includes(name);
const isFlag = (name: string): name is FlagName => (FLAGS as readonly string[]).includes(name);

/** Parses one template file; throws on anything but the names and markers above. */
export function compileTemplate(file: string, source: string): Part[] {
  const root: Part[] = [];
  const open: { flag: FlagName; then: Part[]; otherwise: Part[]; inElse: boolean; line: number }[] = [];
  const target = (): Part[] => {
    const top = open.at(-1);
    if (top === undefined) return root;
    return top.inElse ? top.otherwise : top.then;
  };
  const lines = source.split(/(?<=\n)/);
  lines.forEach((line, index) => {
    const at = index + 1;
    const section = SECTION_LINE.exec(line);
    if (section !== null) {
      const marker = section[1] ?? '';
      if (marker.startsWith('#if ')) {
        const flag = marker.slice(4);
        if (!isFlag(flag)) throw new ScaffoldTemplateError(file, at, `unknown flag "${flag}" (known: ${FLAGS.join(', ')})`);
        if (open.length > 0) throw new ScaffoldTemplateError(file, at, 'sections do not nest');
        open.push({ flag, then: [], otherwise: [], inElse: false, line: at });
      } else if (marker === 'else') {
        const top = open.at(-1);
        if (top === undefined || top.inElse) throw new ScaffoldTemplateError(file, at, '{{else}} without an open {{#if}}');
        top.inElse = true;
      } else {
        const top = open.pop();
        if (top === undefined) throw new ScaffoldTemplateError(file, at, '{{/if}} without an open {{#if}}');
        root.push({ flag: top.flag, then: top.then, otherwise: top.otherwise });
      }
      return;
    }
    let last = 0;
    for (const match of line.matchAll(TAG)) {
      const name = (match[1] ?? '').trim();
      if (!isValue(name)) throw new ScaffoldTemplateError(file, at, `unknown placeholder "{{${name}}}" (known: ${VALUES.join(', ')}; sections stand alone on their line)`);
      if (MARKDOWN_ONLY.has(name) && !file.endsWith('.md')) throw new ScaffoldTemplateError(file, at, `{{${name}}} is escaped for Markdown and may appear only in .md files`);
      target().push({ text: line.slice(last, match.index) }, { value: name });
      last = match.index + match[0].length;
    }
    const rest = line.slice(last);
    if (rest.includes('{{') || rest.includes('}}')) throw new ScaffoldTemplateError(file, at, 'unbalanced {{ or }}');
    target().push({ text: rest });
  });
  const unclosed = open.at(-1);
  if (unclosed !== undefined) throw new ScaffoldTemplateError(file, unclosed.line, '{{#if}} is never closed');
  return root;
}

export function renderTemplate(parts: Part[], values: ScaffoldValues, flags: ScaffoldFlags): string {
  return parts
    .map((part) => {
      if ('text' in part) return part.text;
      if ('value' in part) return values[part.value];
      return renderTemplate(flags[part.flag] ? part.then : part.otherwise, values, flags);
    })
    .join('');
}

/** One language's files, in the order they go into the zip (by path, so the zip is stable). */
export interface ScaffoldTemplate {
  language: ScaffoldLanguage;
  files: { path: string; parts: Part[] }[];
}

// Build outputs and secrets that a developer's trial run may leave in a template folder:
// packing them would ship someone's node_modules, or worse their .env.
const NEVER_PACKED = new Set(['.env', 'node_modules', '.venv', '__pycache__', 'target', 'dist', 'bin']);

function listFiles(root: string, relative = ''): string[] {
  const entries = readdirSync(path.join(root, relative), { withFileTypes: true });
  return entries.flatMap((entry) => {
    const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
    if (NEVER_PACKED.has(entry.name) || entry.name.endsWith('.tgz') || entry.name.endsWith('.egg-info')) {
      throw new Error(`Scaffold template ${path.join(root, child)} must not exist: it is a build output or a secret; delete it.`);
    }
    if (entry.isDirectory()) return listFiles(root, child);
    if (!entry.isFile()) throw new Error(`Scaffold template ${path.join(root, child)} is neither a file nor a folder.`);
    return [child];
  });
}

export type ScaffoldTemplates = Record<ScaffoldLanguage, ScaffoldTemplate>;

// What every starter must hold whatever its language; an image that dropped one (a
// .dockerignore rule on .env.*, say) fails at boot rather than shipping less.
const REQUIRED = ['.env.example', '.gitignore', 'README.md'];

function loadTemplate(dir: string, language: ScaffoldLanguage): ScaffoldTemplate {
  const root = path.join(dir, language);
  const listed = listFiles(root);
  const missing = REQUIRED.filter((file) => !listed.includes(file));
  if (missing.length > 0) throw new Error(`Scaffold template ${root} lacks ${missing.join(', ')}.`);
  const files = listed
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((file) => ({ path: file, parts: compileTemplate(`${language}/${file}`, readFileSync(path.join(root, file), 'utf8')) }));
  return { language, files };
}

/** Reads and checks every language's templates (once, at startup: a broken one stops the boot). */
export function loadScaffoldTemplates(dir: string = SCAFFOLD_DIR): ScaffoldTemplates {
  return {
    typescript: loadTemplate(dir, 'typescript'),
    python: loadTemplate(dir, 'python'),
    go: loadTemplate(dir, 'go'),
    java: loadTemplate(dir, 'java'),
  };
}

/**
 * The agent's name as a folder, file and package name: lower-case ASCII letters, digits and
 * hyphens, which npm, PyPI, Go and Maven all accept. A name with nothing usable falls back
 * to the agent id.
 */
export function projectName(agentName: string, agentId: string): string {
  const slug = agentName
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 60)
    .replace(/^-+|-+$/g, '');
  return slug === '' ? agentId.toLowerCase().replaceAll('_', '-') : slug;
}

/**
 * Backslash-escapes what Markdown reads as markup inside a line (the name never starts one),
 * so a name reads as plain text in the README and cannot open a link, tag or comment there.
 */
export const markdownText = (text: string): string => text.replace(/[\\`*_[\]<>&|~#]/g, '\\$&');

const AGENT_ID = /^agt_[0-9a-z]+$/;
// Values land inside string literals of four languages: no quotes, backslashes, spaces or $.
const SAFE_URL = /^https?:\/\/[A-Za-z0-9.:[\]-]+(?:\/[A-Za-z0-9._~%/-]*)?$/;

export interface ScaffoldAgent {
  id: string;
  name: string;
  allowedScopes: readonly string[];
}

export interface Scaffold {
  /** `<project name>-<language>.zip`, as sent in Content-Disposition. */
  filename: string;
  /** The top folder every entry sits under. */
  folder: string;
  zip: Uint8Array;
}

// A fixed time for every entry, so one agent's project is the same bytes every time. Local
// time on purpose: zip stores local date fields, and this keeps them equal in every zone.
const ENTRY_TIME = new Date(2026, 0, 1, 0, 0, 0);
// Unix (3) as the maker, and a regular file with rw-r--r-- in the upper 16 bits of the
// external attributes: nothing in a starter is executable. (A product, not a shift: the
// type bit would make a 32-bit shift negative.)
const ENTRY_ATTRIBUTES = { os: 3, attrs: 0o100644 * 0x10000, mtime: ENTRY_TIME };

/** The project of `language` for `agent`, calling the server at `baseUrl`. Holds no secret. */
export function buildScaffold(template: ScaffoldTemplate, agent: ScaffoldAgent, baseUrl: string): Scaffold {
  if (!AGENT_ID.test(agent.id)) throw new Error(`Not an agent id: ${agent.id}`);
  if (!SAFE_URL.test(baseUrl)) throw new Error(`The base URL ${baseUrl} cannot be written into a starter project safely.`);
  const folder = projectName(agent.name, agent.id);
  const values: ScaffoldValues = { agentId: agent.id, agentName: markdownText(agent.name), baseUrl, projectName: folder };
  const flags: ScaffoldFlags = { readsAgents: agent.allowedScopes.includes('agents:read') };
  const encoder = new TextEncoder();
  const entries = Object.fromEntries(
    template.files.map((file): [string, [Uint8Array, ZipOptions]] => [`${folder}/${file.path}`, [encoder.encode(renderTemplate(file.parts, values, flags)), ENTRY_ATTRIBUTES]]),
  );
  return { filename: `${folder}-${template.language}.zip`, folder, zip: zipSync(entries, { level: 6 }) };
}
