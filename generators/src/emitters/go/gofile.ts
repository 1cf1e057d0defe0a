import { GENERATED_NOTICE } from '../../emitter';

/** Standard-library and SDK imports a generated file may use, by the package name in code. */
const IMPORTS: Record<string, string> = {
  context: 'context',
  core: 'github.com/mandate-dev/mandate/sdks/go/core',
  errors: 'errors',
  fmt: 'fmt',
  http: 'net/http',
  json: 'encoding/json',
  slog: 'log/slog',
  mandate: 'github.com/mandate-dev/mandate/sdks/go/mandate',
  time: 'time',
  url: 'net/url',
};

/** Import paths used by `body`: a package counts when `name.` appears outside comments. */
function usedImports(body: string): string[] {
  const code = body
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('//'))
    .join('\n');
  return Object.entries(IMPORTS)
    .filter(([name]) => new RegExp(`(^|[^A-Za-z0-9_."])${name}\\.[A-Za-z_]`, 'm').test(code))
    .map(([, path]) => path);
}

/**
 * A complete Go source file: the generated-code notice, the package clause, the imports
 * `body` uses (standard library first, then the SDK, as goimports groups them) and `body`.
 */
export function goFile(pkg: string, body: string, packageDoc?: string): string {
  const imports = usedImports(body);
  const std = imports.filter((path) => !path.includes('.')).sort();
  const sdk = imports.filter((path) => path.includes('.')).sort();
  const groups = [std, sdk].filter((group) => group.length > 0).map((group) => group.map((path) => `\t"${path}"`).join('\n'));
  const importBlock =
    imports.length === 0 ? '' : imports.length === 1 ? `import "${imports[0] ?? ''}"\n\n` : `import (\n${groups.join('\n\n')}\n)\n\n`;
  const doc = packageDoc === undefined ? '' : `${comment(packageDoc, '')}\n`;
  return `// ${GENERATED_NOTICE}\n\n${doc}package ${pkg}\n\n${importBlock}${body.trimEnd()}\n`;
}

/**
 * A `//` comment, re-wrapped at about 100 columns as plain unindented paragraphs, which
 * gofmt's doc-comment reformatting leaves as they are (indented lines would become code).
 */
export function comment(text: string, indent: string): string {
  const paragraphs = text
    .split(/\n\s*\n/)
    .map((p) => p.replace(/\s+/g, ' ').trim())
    .filter((p) => p !== '');
  const lines: string[] = [];
  for (const [i, paragraph] of paragraphs.entries()) {
    if (i > 0) lines.push('');
    let line = '';
    for (const word of paragraph.split(' ')) {
      if (line !== '' && line.length + 1 + word.length > 96) {
        lines.push(line);
        line = word;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    if (line !== '') lines.push(line);
  }
  return lines.map((line) => (line === '' ? `${indent}//` : `${indent}// ${line}`)).join('\n');
}

/**
 * Rows of cells aligned the way gofmt's tabwriter aligns them within one section (a run of
 * lines with no blank or comment line between): every cell but the last is padded to its
 * column's widest cell plus one space. All rows of a section have the same number of cells.
 */
export function aligned(rows: string[][], indent: string): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.slice(0, -1).forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) => indent + row.map((cell, i) => (i < row.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join(' '));
}
