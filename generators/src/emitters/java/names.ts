import { camel, pascal, screamingSnake, words } from '../../ir/naming';
import type { Name } from '../../ir/types';

/** Java's reserved words and literals: an identifier equal to one gets a trailing `_`. */
const RESERVED = new Set(
  (
    'abstract assert boolean break byte case catch char class const continue default do double else enum ' +
    'extends final finally float for goto if implements import instanceof int interface long native new ' +
    'package private protected public return short static strictfp super switch synchronized this throw ' +
    'throws transient try void volatile while true false null var record yield sealed permits'
  ).split(' '),
);

/** Methods every generated model already has; a property getter may not take these names. */
const MODEL_METHODS = new Set([
  'builder',
  'toBuilder',
  'additionalProperties',
  'equals',
  'hashCode',
  'toString',
  'getClass',
  'paginatedItems',
  'paginatedNextCursor',
  'notify',
  'wait',
]);

const safe = (identifier: string): string => (/^[0-9]/.test(identifier) ? `_${identifier}` : identifier);

/** A lowerCamel Java identifier (field, method, parameter) for a word-list name. */
export function javaMember(name: Name): string {
  const identifier = safe(camel(name));
  return RESERVED.has(identifier) ? `${identifier}_` : identifier;
}

/** The getter / field / builder-method name of a model property. */
export function propertyMember(name: Name): string {
  const member = javaMember(name);
  return MODEL_METHODS.has(member) ? `${member}Value` : member;
}

/** An UpperCamel Java type name for a word-list name. */
export function javaType(name: Name): string {
  return safe(pascal(name));
}

/** A SCREAMING_SNAKE constant name for an enum value, e.g. `admin_token` → ADMIN_TOKEN. */
export function enumConstant(value: string): string {
  const identifier = screamingSnake(words(value));
  return identifier === '' ? 'EMPTY' : safe(identifier);
}

/** A Java string literal. */
export function stringLiteral(value: string): string {
  return JSON.stringify(value).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Spec prose made safe for Javadoc: HTML-special characters, `@` and `\u` escaped, and
 * Markdown `code` spans turned into {@code ...}.
 */
export function docText(text: string | undefined): string {
  return (text ?? '')
    .trim()
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@/g, '&#64;')
    .replace(/\\u/g, '\\\\u')
    .replace(/\*\//g, '*&#47;')
    .replace(/`([^`]+)`/g, (_, code: string) => codeSpan(code));
}

/**
 * A Markdown code span as Javadoc: {@code ...} when its braces pair up (Javadoc ends the tag at
 * the first unpaired `}`), else <code> with the braces as entities.
 */
function codeSpan(code: string): string {
  let depth = 0;
  for (const char of code) {
    if (char === '{') depth++;
    else if (char === '}' && --depth < 0) break;
  }
  if (depth === 0) return `{@code ${code}}`;
  return `<code>${code.replace(/\{/g, '&#123;').replace(/\}/g, '&#125;')}</code>`;
}

/** A Javadoc comment at `indent` for already-safe text (see docText), or nothing when empty. */
export function javadoc(text: string, indent: string): string {
  const clean = text.trim();
  if (clean === '') return '';
  const lines = clean.split('\n').map((line) => line.trimEnd());
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  const body = lines.map((line) => (line === '' ? `${indent} *` : `${indent} * ${line}`)).join('\n');
  return `${indent}/**\n${body}\n${indent} */\n`;
}
