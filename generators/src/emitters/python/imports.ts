/** Collects what a generated module imports, and prints the import block ruff expects. */

export class Imports {
  private readonly from = new Map<string, Set<string>>();
  private readonly plain = new Set<string>();

  /** `from module import name`. */
  add(module: string, name: string): this {
    const names = this.from.get(module) ?? new Set<string>();
    names.add(name);
    this.from.set(module, names);
    return this;
  }

  /** `import module`. */
  module(module: string): this {
    this.plain.add(module);
    return this;
  }

  typing(name: string): string {
    this.add('typing', name);
    return name;
  }

  /**
   * Sections as isort (ruff `I001`) orders them: `__future__`, the standard library,
   * third-party packages, then this package (relative imports, farthest first).
   */
  render(firstParty: readonly string[] = []): string {
    const stdlib = new Set(['typing', 'datetime', 'dataclasses', 'functools', 'enum', '__future__']);
    const isFirst = (m: string): boolean => m.startsWith('.') || firstParty.some((p) => m === p || m.startsWith(`${p}.`));
    const section = (pick: (module: string) => boolean): string[] => {
      const plain = [...this.plain].filter(pick).map((m) => ({ key: m, line: `import ${m}` }));
      const from = [...this.from.entries()]
        .filter(([m]) => pick(m))
        .map(([m, names]) => ({ key: m, line: fromLine(m, [...names]) }));
      // isort's force-sort-within-sections is off: `import x` lines come before `from x import`.
      return [...plain.sort(byKey).map((e) => e.line), ...from.sort(byModule).map((e) => e.line)];
    };
    const sections = [
      section((m) => m === '__future__'),
      section((m) => m !== '__future__' && stdlib.has(m.split('.')[0] ?? m)),
      section((m) => !stdlib.has(m.split('.')[0] ?? m) && !isFirst(m)),
      section((m) => isFirst(m)),
    ].filter((lines) => lines.length > 0);
    return sections.map((lines) => lines.join('\n')).join('\n\n');
  }
}

const byKey = (a: { key: string }, b: { key: string }): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

/** Relative imports sort with the most dots first (`..` before `.`), then by name. */
function byModule(a: { key: string }, b: { key: string }): number {
  const dots = (m: string): number => m.length - m.replace(/^\.+/, '').length;
  if (dots(a.key) !== dots(b.key)) return dots(b.key) - dots(a.key);
  return byKey(a, b);
}

/** isort's order inside one `from` import: CONSTANTS, then Classes, then functions. */
function sortNames(names: string[]): string[] {
  const rank = (n: string): number => (/^[A-Z0-9_]+$/.test(n) && /[A-Z]/.test(n) ? 0 : /^[A-Z]/.test(n) ? 1 : 2);
  return names.sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

function fromLine(module: string, names: string[]): string {
  const sorted = sortNames(names);
  const one = `from ${module} import ${sorted.join(', ')}`;
  if (one.length <= 100) return one;
  return [`from ${module} import (`, ...sorted.map((n) => `    ${n},`), ')'].join('\n');
}
