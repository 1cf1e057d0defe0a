/**
 * Python source layout that is already what `ruff format` (Black style) would print, so the
 * generated files pass `ruff format --check` without a formatter run: a bracketed group
 * stays on one line when it fits, and otherwise puts one item per line with a trailing
 * comma (the "magic trailing comma" keeps that layout stable).
 */

export const LINE_LENGTH = 100;
/** Prose in docstrings and comments wraps here, leaving room for indentation. */
export const PROSE_WIDTH = 88;

/**
 * A bracketed group: `head` ends with the opening bracket, `tail` starts with the closing one.
 * A `hug` group that does not fit keeps its items together on one line of their own, as ruff
 * splits a subscript (`Union[\n    A, B\n] = …`), instead of one item per line.
 */
export interface Group {
  head: string;
  items: Node[];
  tail: string;
  hug?: boolean;
}

export type Node = string | Group;

export const group = (head: string, items: Node[], tail: string): Group => ({ head, items, tail });
export const hugged = (head: string, items: string[], tail: string): Group => ({ head, items, tail, hug: true });

function flat(node: Node): string {
  if (typeof node === 'string') return node;
  return `${node.head}${node.items.map(flat).join(', ')}${node.tail}`;
}

/** Renders `node` at `indent`, followed by `suffix` (`,` inside an exploded parent). */
export function render(node: Node, indent: string, suffix = ''): string {
  const oneLine = `${indent}${flat(node)}${suffix}`;
  if (typeof node === 'string' || node.items.length === 0 || oneLine.length <= LINE_LENGTH) return oneLine;
  const inner = `${indent}    `;
  if (node.hug === true) return [`${indent}${node.head}`, `${inner}${node.items.map(flat).join(', ')}`, `${indent}${node.tail}${suffix}`].join('\n');
  return [`${indent}${node.head}`, ...node.items.map((item) => render(item, inner, ',')), `${indent}${node.tail}${suffix}`].join('\n');
}

/**
 * `head` + `body` + `tail` on one line when it fits; else the body alone on its own line
 * between them, as ruff splits a bracket holding one expression (or one short argument list).
 */
export function hug(head: string, body: string, tail: string, indent: string): string {
  const oneLine = `${indent}${head}${body}${tail}`;
  if (oneLine.length <= LINE_LENGTH) return oneLine;
  return `${indent}${head}\n${indent}    ${body}\n${indent}${tail}`;
}

/** Splits prose into lines of at most `width` characters (long words stay whole). */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const paragraph of text.trim().split(/\n\s*\n/)) {
    if (lines.length > 0) lines.push('');
    let line = '';
    for (const word of paragraph.split(/\s+/).filter((w) => w.length > 0)) {
      if (line === '') line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    if (line !== '') lines.push(line);
  }
  return lines;
}

/** Text made safe inside a `"""` docstring. */
function docText(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
}

/**
 * A docstring at `indent`, from paragraphs (each wrapped). One line when it fits, else a
 * summary line, the rest, and the closing quotes on their own line.
 */
export function docstring(paragraphs: string[], indent: string): string[] {
  const width = Math.min(PROSE_WIDTH, LINE_LENGTH - indent.length);
  const lines: string[] = [];
  for (const paragraph of paragraphs.filter((p) => p.trim() !== '')) {
    if (lines.length > 0) lines.push('');
    lines.push(...paragraph.split('\n').flatMap((block) => (block.startsWith('    ') ? [block] : wrap(docText(block), width))));
  }
  if (lines.length === 0) return [];
  let last = lines[lines.length - 1] ?? '';
  if (last.endsWith('"')) lines[lines.length - 1] = last = `${last} `;
  if (lines.length === 1 && `${indent}"""${last}"""`.length <= LINE_LENGTH) return [`${indent}"""${last}"""`];
  return [`${indent}"""${lines[0] ?? ''}`, ...lines.slice(1).map((line) => (line === '' ? '' : `${indent}${line}`)), `${indent}"""`];
}

/** A Python string literal (double quotes, as ruff prints them). */
export function pyString(value: string): string {
  return JSON.stringify(value);
}
