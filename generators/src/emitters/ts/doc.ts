/** A JSDoc block (or nothing) at `indent`, safe for any text the spec holds. */
export function jsDoc(indent: string, ...paragraphs: (string | undefined)[]): string {
  const text = paragraphs
    .filter((p): p is string => p !== undefined && p.trim() !== '')
    .map((p) => p.trim())
    .join('\n\n')
    .replace(/\*\//g, '*\\/');
  if (text === '') return '';
  const lines = text.split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0] ?? ''} */\n`;
  return `${indent}/**\n${lines.map((line) => `${indent} *${line === '' ? '' : ` ${line}`}`).join('\n')}\n${indent} */\n`;
}

/** A property key as TypeScript source: bare when it is an identifier, else quoted. */
export function key(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
